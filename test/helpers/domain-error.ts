import { DomainError } from '../../services/core/errors.ts';

/** The DomainError code `fn` throws (contract suites assert on codes, not messages); undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof DomainError ? err.code : `not a DomainError: ${String(err)}`;
  }
  return undefined;
}
