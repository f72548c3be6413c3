/**
 * Stock rules no action on this machine can raise, with the reason. Every other stock rule has a
 * trigger (test/triggers/catalogue.test.ts checks the two lists cover the three files exactly).
 */
import type { Untriggerable } from './trigger';

export const UNTRIGGERABLE: readonly Untriggerable[] = [];
