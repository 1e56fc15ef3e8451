// What a scenario reports: figures, each with an optional target and the verdict against it.

export type Verdict = "met" | "missed" | "info";

export interface Figure {
  scenario: string;
  figure: string;
  value: string;
  target: string;
  verdict: Verdict;
}

export interface Target {
  text: string;
  met: (value: number) => boolean;
}

export const atMost = (limit: number, unit = ""): Target => ({
  text: `<= ${limit}${unit}`,
  met: (v) => v <= limit,
});

export const atLeast = (limit: number, unit = ""): Target => ({
  text: `>= ${limit}${unit}`,
  met: (v) => v >= limit,
});

export const exactly = (expected: number): Target => ({
  text: `= ${expected}`,
  met: (v) => v === expected,
});

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Builds a figure; without a target it is information only. */
export function figure(
  scenario: string,
  name: string,
  value: number,
  unit = "",
  target?: Target,
): Figure {
  return {
    scenario,
    figure: name,
    value: `${formatNumber(value)}${unit}`,
    target: target?.text ?? "",
    verdict: target ? (target.met(value) ? "met" : "missed") : "info",
  };
}

/** A figure whose value is text (settings, plans); always information. */
export function note(scenario: string, name: string, value: string): Figure {
  return { scenario, figure: name, value, target: "", verdict: "info" };
}
