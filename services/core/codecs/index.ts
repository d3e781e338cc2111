import type { Codec } from './codec.ts';
import { draginoLdds20, draginoLdds75 } from './dragino.ts';
import { floodnet } from './floodnet.ts';
import { json } from './json.ts';
import { milesightEm310Udl, milesightEm500Udl } from './milesight.ts';

export type { Codec, CodecInput, CodecOptions, CodecRefusal, DecodeResult, JsonFieldOption, Measurement } from './codec.ts';

/** Every payload codec by the name a sensor is registered with (`--codec`). */
export const CODECS = {
  'milesight-em500-udl': milesightEm500Udl,
  'milesight-em310-udl': milesightEm310Udl,
  'dragino-ldds75': draginoLdds75,
  'dragino-ldds20': draginoLdds20,
  floodnet,
  json,
} as const satisfies Record<string, Codec>;

export type CodecName = keyof typeof CODECS;
export const CODEC_NAMES = Object.keys(CODECS) as [CodecName, ...CodecName[]];

/** The codec registered under `name`, or undefined. */
export function findCodec(name: string): Codec | undefined {
  return Object.hasOwn(CODECS, name) ? CODECS[name as CodecName] : undefined;
}
