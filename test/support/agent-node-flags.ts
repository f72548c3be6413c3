/**
 * The node flags the agent is launched with (package.json config.agent_node_flags): `npm start`,
 * the image's ENTRYPOINT and the `lanner` shebang use them, and so do the tests that run the agent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { config: { agent_node_flags: string } };

export const AGENT_NODE_FLAGS: readonly string[] = pkg.config.agent_node_flags.split(' ').filter(Boolean);
