/**
 * What a phase allows, in one sentence, for the player page and the projector alike: the rule is
 * one (deals only in the phases that allow them; the last of those ends tables without one in no
 * deal), the words are the reader's. Each caller passes its own sentences, written where it calls
 * so that the translation catalogue finds them:
 *   now     - deals can be concluded in this phase
 *   noDeal  - added in the last phase: what the clock's end does to a table without a deal
 *   later   - with %(phases)s: nothing is binding yet; the phases where deals can be concluded
 *   final   - nothing is binding yet, and no phase is marked as allowing deals
 */
import { fmt, listText } from "../i18n.js";

/** The names of the phases in which a deal can be concluded, in their order. */
export function dealPhaseNames(phases) {
  return (phases || []).filter((p) => p.agreement).map((p) => p.name);
}

export function phaseAllows(phases, index, words) {
  const phase = phases[index];
  if (!phase) return "";
  if (phase.agreement) return index === phases.length - 1 ? `${words.now} ${words.noDeal}` : words.now;
  const later = dealPhaseNames(phases);
  return later.length ? fmt(words.later, { phases: listText(later) }) : words.final;
}
