/**
 * The server's typed door to the one word catalogue, web/shared/messages.js (issue 16): the map
 * and the console load that file as it is, the alert texts, CAP and Atom, LINE and the board take
 * their status and level words from here. Pure data (the architecture test lets the core import
 * web/shared/ and nothing else outside it).
 */
import {
  ALERT_KIND_WORDS as ALERT_KIND,
  LANG_STORAGE_KEY,
  LANGS,
  RIVER_FLOOD_WORDS as RIVER_FLOOD,
  RIVER_STAGE_WORDS as RIVER_STAGE,
  SENSOR_STATE_WORDS as SENSOR_STATE,
  STATUS_WORDS as STATUS,
  esc,
  format,
  wordsIn,
} from '../../web/shared/messages.js';
import type { AlertKind } from './alerts/alert.ts';
import type { Status } from './status.ts';

/** A word in both languages. */
export interface Words {
  readonly ja: string;
  readonly en: string;
}
export type Lang = (typeof LANGS)[number];
export type RiverStage = keyof typeof RIVER_STAGE;

export const STATUS_WORDS: Readonly<Record<Status, Words>> = STATUS;
export const RIVER_STAGE_WORDS: Readonly<Record<RiverStage, Words>> = RIVER_STAGE;
export const SENSOR_STATE_WORDS: Readonly<Record<keyof typeof SENSOR_STATE, Words>> = SENSOR_STATE;
export const ALERT_KIND_WORDS: Readonly<Record<AlertKind, Words>> = ALERT_KIND;
export const RIVER_FLOOD_WORDS: Words = RIVER_FLOOD;
export { LANG_STORAGE_KEY, LANGS, esc, format, wordsIn };
