/** Every trigger of the suite, grouped by tactic module. */
import type { Trigger } from '../trigger';
import { containers } from './containers';
import { credentialAccess } from './credential-access';
import { defenseEvasion } from './defense-evasion';
import { execution } from './execution';
import { network } from './network';
import { persistence } from './persistence';
import { privilegeEscalation } from './privilege-escalation';

export const TRIGGERS: readonly Trigger[] = [...credentialAccess, ...execution, ...defenseEvasion, ...persistence, ...privilegeEscalation, ...containers, ...network];
