// The rule types the engine knows, listed explicitly (no self-registration).
import type { RulePlugin } from '../types.ts';
import { absenceRule } from './absence.ts';
import { agentOfflineRule } from './agent-offline.ts';
import { changeRule } from './change.ts';
import { thresholdRule } from './threshold.ts';

export const RULE_PLUGINS: readonly RulePlugin[] = [thresholdRule, absenceRule, agentOfflineRule, changeRule];
