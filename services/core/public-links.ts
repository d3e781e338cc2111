import { z } from 'zod';

/**
 * Links the city gives residents next to the map (issue 12): where the
 * evacuation information, the hazard map, the shelters and the city's
 * disaster page are. The map words each kind itself (避難情報 / Evacuation
 * information, …); `other` needs its own label.
 */
export const PublicLinkKind = z.enum(['evacuation', 'hazard_map', 'shelters', 'disaster_page', 'other']);

/**
 * https only, or a path on this site: a link residents tap in a storm must not
 * be downgraded to http, and `javascript:`/`data:` would run in the map's origin.
 */
export function isSafeLinkUrl(url: string): boolean {
  if (url.startsWith('/')) return !url.startsWith('//') && !/[\s\\]/.test(url);
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.username === '' && u.password === '' && u.hostname !== '';
  } catch {
    return false;
  }
}

export const PublicLinkSchema = z
  .object({
    kind: PublicLinkKind.default('other'),
    url: z.string().trim().min(1).max(2048).refine(isSafeLinkUrl, { message: 'url: https://… or a path on this site starting with /' }),
    /** Japanese label; defaults to the kind's name. */
    label: z.string().trim().min(1).max(60).optional(),
    label_en: z.string().trim().min(1).max(60).optional(),
  })
  .strict()
  .refine((l) => l.kind !== 'other' || l.label !== undefined, { message: 'label: a link of kind other needs a label', path: ['label'] });

/** At most 8: a short row of plain links, not a portal. */
export const PublicLinksSchema = z.array(PublicLinkSchema).max(8);
export type PublicLink = z.infer<typeof PublicLinkSchema>;

/**
 * Parse the JSON text of `PUBLIC_LINKS` or DATA_DIR/public-links.json.
 * Returns the links or an error message naming the entry and field.
 * @example parsePublicLinks('[{"kind":"hazard_map","url":"https://city.example/hazard"}]')
 */
export function parsePublicLinks(text: string): { links: PublicLink[] } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = PublicLinksSchema.safeParse(raw);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.join('.') || '(list)'}: ${i.message}`).join('; ') };
  return { links: parsed.data };
}
