import type { TranslationBundle } from '@jupyterlab/translation';

import { Smops } from './types';

/**
 * Endpoint expiry as the panel shows and asks for it. The rules (default, admin cap, whether
 * "no expiry" is allowed) come from the server's `status.rules.expiry`; the server checks them
 * again on every deploy and extend, so these checks only say early what it would refuse.
 */

export type DurationUnit = 'min' | 'h' | 'd';

export const UNIT_SECONDS: Record<DurationUnit, number> = { min: 60, h: 3600, d: 86400 };
const UNITS: DurationUnit[] = ['d', 'h', 'min'];

/** What a deploy or extend may ask for where the endpoint runs. */
export interface IExpiryPolicy {
  /** The form's starting value; null: no expiry by default. */
  defaultSeconds: number | null;
  /** The admin's cap on the time left from now; null: none (always null for local endpoints). */
  maxSeconds: number | null;
  /** Whether "no expiry" may be asked for. */
  noExpiryAllowed: boolean;
}

/** The user's choice in an expiry field: an amount of a unit, or no expiry. */
export interface IExpiryChoice {
  amount: number;
  unit: DurationUnit;
  never: boolean;
}

/**
 * The policy for a local or SageMaker endpoint. Local endpoints cost nothing, so the server
 * exempts them from the cap and always allows "no expiry" (core/deploy_plan.check_lifetime);
 * null when the server sends no expiry rules (then the form asks nothing and the server's
 * default applies).
 */
export function expiryPolicy(
  rules: Smops.IRules | undefined,
  local: boolean
): IExpiryPolicy | null {
  const expiry = rules?.expiry;
  if (!expiry) {
    return null;
  }
  return {
    defaultSeconds: expiry.default_seconds,
    maxSeconds: local ? null : expiry.max_seconds,
    noExpiryAllowed: local || expiry.no_expiry_allowed
  };
}

/** `seconds` as an amount of the largest unit that divides it (minutes, with decimals, else). */
export function splitSeconds(seconds: number): { amount: number; unit: DurationUnit } {
  for (const unit of UNITS) {
    if (seconds >= UNIT_SECONDS[unit] && seconds % UNIT_SECONDS[unit] === 0) {
      return { amount: seconds / UNIT_SECONDS[unit], unit };
    }
  }
  return { amount: Math.round((seconds / 60) * 100) / 100, unit: 'min' };
}

/** The field's first value: the default, else no expiry where allowed, else the cap. */
export function initialChoice(policy: IExpiryPolicy): IExpiryChoice {
  const seconds = policy.defaultSeconds ?? (policy.noExpiryAllowed ? null : policy.maxSeconds);
  if (seconds === null) {
    return { amount: 4, unit: 'h', never: true };
  }
  return { ...splitSeconds(seconds), never: false };
}

/** Seconds the choice asks for; null for no expiry, NaN for an unreadable amount. */
export function choiceSeconds(choice: IExpiryChoice): number | null {
  if (choice.never) {
    return null;
  }
  return Number.isFinite(choice.amount) ? choice.amount * UNIT_SECONDS[choice.unit] : NaN;
}

/**
 * Why the server would refuse `seconds` from now (null: no expiry) under `policy`, in words
 * that say what to do; null when it is fine. `seconds` is the time left it would give.
 */
export function lifetimeProblem(
  seconds: number | null,
  policy: IExpiryPolicy,
  trans: TranslationBundle
): string | null {
  const cap = policy.maxSeconds;
  if (seconds === null) {
    return policy.noExpiryAllowed || cap === null
      ? null
      : trans.__(
          'Endpoints on SageMaker must expire here: your administrator allows at most %1 (max_expires_in). Choose a duration instead of "No expiry".',
          formatDuration(cap, trans)
        );
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return trans.__('Give a duration longer than zero, e.g. 30 min, 4 h or 1 d.');
  }
  // The server allows half a second of slack (a clock tick between the two checks).
  if (cap !== null && seconds > cap + 0.5) {
    return trans.__(
      '%1 is longer than the %2 your administrator allows on SageMaker (max_expires_in). Ask for %2 or less; you can extend it later.',
      formatDuration(seconds, trans),
      formatDuration(cap, trans)
    );
  }
  return null;
}

/** A duration as the REST API reads it: `4h`, `90m`, `1d`, or whole seconds (`45s`). */
export function durationText(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  for (const [unit, letter] of [
    ['d', 'd'],
    ['h', 'h'],
    ['min', 'm']
  ] as const) {
    if (s % UNIT_SECONDS[unit] === 0) {
      return `${s / UNIT_SECONDS[unit]}${letter}`;
    }
  }
  return `${s}s`;
}

/** The deploy request's expiry fields for a choice. */
export function deployExpiry(
  choice: IExpiryChoice
): Pick<Smops.IDeployRequest, 'expires_in' | 'no_expiry'> {
  const seconds = choiceSeconds(choice);
  return seconds === null ? { no_expiry: true } : { expires_in: durationText(seconds) };
}

/** `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h` (what the CLI and magics print, translated). */
export function formatDuration(seconds: number, trans: TranslationBundle): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return trans.__('%1 s', s);
  }
  if (s < 3600) {
    return trans.__('%1 min', Math.floor(s / 60));
  }
  if (s < 86400) {
    const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
    return m ? trans.__('%1 h %2 min', h, m) : trans.__('%1 h', h);
  }
  const [d, h] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600)];
  return h ? trans.__('%1 d %2 h', d, h) : trans.__('%1 d', d);
}

/**
 * Seconds an endpoint has left at `now` (ms), counted from the server's `seconds_left` at
 * `seenAt` (ms, when the answer arrived) so a browser clock that differs from the server's
 * does not matter; from `expires_at` when the server gave no count; null without an expiry.
 */
export function secondsLeft(e: Smops.IEndpoint, seenAt: number, now: number): number | null {
  if (e.seconds_left !== null && e.seconds_left !== undefined) {
    return Math.max(0, e.seconds_left - (now - seenAt) / 1000);
  }
  if (e.expires_at) {
    const at = Date.parse(e.expires_at);
    return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
  }
  return null;
}

/** A moment as the user reads it: "16:40" today, "2026-12-01 16:40" on another day. */
export function clockText(atMs: number, now: number = Date.now()): string {
  const at = new Date(atMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return at.toDateString() === new Date(now).toDateString()
    ? time
    : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** "Expires in 3 h 12 min", "Expired" or "No expiry". */
export function timeLeftText(left: number | null, trans: TranslationBundle): string {
  if (left === null) {
    return trans.__('No expiry');
  }
  if (left < 1) {
    return trans.__('Expired');
  }
  return trans.__('Expires in %1', formatDuration(left, trans));
}

/** What the endpoint costs from now until it expires (USD), or null (free, unknown, no expiry). */
export function costUntilExpiry(e: Smops.IEndpoint, left: number | null): number | null {
  if (left === null || e.backend === 'local') {
    return null;
  }
  if (e.cost_per_hour) {
    return (e.cost_per_hour * left) / 3600;
  }
  // Without an hourly price the server's own figure, scaled to the time that has passed.
  if (e.cost_until_expiry && e.seconds_left) {
    return (e.cost_until_expiry * left) / e.seconds_left;
  }
  return null;
}

/** How often the time left needs redrawing: every second in the last two minutes. */
export function tickMs(lefts: Array<number | null>): number | null {
  const live = lefts.filter((l): l is number => l !== null && l >= 1);
  if (!live.length) {
    return null;
  }
  return Math.min(...live) <= 120 ? 1000 : 10000;
}

/** What an extend dialog asks the server for. */
export type ExtendChoice =
  | { kind: 'by'; seconds: number }
  | { kind: 'from-now'; seconds: number }
  | { kind: 'never' };

/** The time left an extend choice would give, from `left` now (null: no expiry). */
export function leftAfter(choice: ExtendChoice, left: number | null): number | null {
  switch (choice.kind) {
    case 'by':
      return Math.max(left ?? 0, 0) + choice.seconds;
    case 'from-now':
      return choice.seconds;
    default:
      return null;
  }
}

/** The REST body (`POST .../expiry`) for an extend choice. */
export function extendRequest(choice: ExtendChoice): Smops.IExtendRequest {
  switch (choice.kind) {
    case 'by':
      return { by: durationText(choice.seconds) };
    case 'from-now':
      return { expires_in: durationText(choice.seconds) };
    default:
      return { no_expiry: true };
  }
}
