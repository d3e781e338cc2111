// The board's audible cue and browser notification for a new or escalated alert (issue 13).
// Each can be muted per user (localStorage: this browser, this person's desk or phone).

/**
 * @param {{ prefs: { sound: boolean, notify: boolean }, onCue?: () => void }} deps
 */
export function createBoardCues(deps) {
  /** @type {AudioContext | undefined} */
  let ctx;

  /** Browsers start audio only after a user gesture: the first tap on the board unlocks it. */
  function unlock() {
    try {
      ctx ??= new AudioContext();
      if (ctx.state === 'suspended') void ctx.resume();
    } catch {
      ctx = undefined;
    }
  }

  /** Two short tones (880 Hz then 660 Hz): distinct from a phone's ring, audible across an office. */
  function beep() {
    if (!ctx) unlock();
    if (!ctx) return;
    const t0 = ctx.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.25 + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + i * 0.25);
      osc.stop(t0 + i * 0.25 + 0.24);
    }
  }

  return {
    unlock,
    async askPermission() {
      if (typeof Notification === 'undefined') return 'unsupported';
      if (Notification.permission === 'default') return Notification.requestPermission();
      return Notification.permission;
    },
    /**
     * A new or escalated alert: sound and notification, each unless muted.
     * @param {{ title: string, body: string, tag: string }} message
     */
    cue(message) {
      deps.onCue?.();
      if (deps.prefs.sound) beep();
      if (deps.prefs.notify && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
        try {
          // `renotify` (alert again for the same tag) is in the Notifications standard but not yet in TypeScript's DOM types.
          /** @type {NotificationOptions & { renotify: boolean }} */
          const options = { body: message.body, tag: `kansui-board-${message.tag}`, renotify: true };
          new Notification(message.title, options);
        } catch {
          // Some phones only allow notifications from a service worker; the sound and the board itself remain.
        }
      }
    },
  };
}
