// The pages' words and numbers in the page's language.
// Words: Django's JavaScript catalogue (/jsi18n/<lang>.<digest>.js), an ordinary script the page
// loads before its modules; it defines gettext, ngettext, pgettext and interpolate as globals.
// Without it (a failed load) the page speaks English. Numbers, percentages, lists and times:
// the browser's Intl, in the language of the page (<html lang>).
//
// Write every message as one literal in a gettext/ngettext/pgettext call (the extractor reads
// the calls), with named placeholders: fmt(gettext("Table %(n)s"), { n: 3 }).

const g = globalThis;
export const gettext = typeof g.gettext === "function" ? g.gettext : (s) => s;
export const ngettext = typeof g.ngettext === "function" ? g.ngettext : (s, p, n) => (n === 1 ? s : p);
export const pgettext = typeof g.pgettext === "function" ? g.pgettext : (_c, s) => s;

/** "%(name)s" placeholders filled from values (Django's interpolate, named). */
export function fmt(text, values = {}) {
  return String(text).replace(/%\((\w+)\)s/g, (m, k) => (k in values ? String(values[k]) : m));
}

export const LANG = document.documentElement.lang || "en";

const numberFormats = new Map();
function nf(options) {
  const key = JSON.stringify(options);
  if (!numberFormats.has(key)) numberFormats.set(key, new Intl.NumberFormat(LANG, options));
  return numberFormats.get(key);
}

/** A number with at most one decimal (12.5 / 12,5; 12, not 12.0). */
export const fmt1 = (x) => nf({ maximumFractionDigits: 1 }).format(Math.round(x * 10) / 10);
/** A number with exactly `digits` decimals. */
export const fixed = (x, digits) => nf({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
/** A 0-1 share as a whole percentage: 45% (English), 45 % (German, French, Russian). */
export const pct = (x) => nf({ style: "percent", maximumFractionDigits: 0 }).format(x);
/** A 0-1 share as a percentage with at most one decimal (66.7%). */
export const pct1 = (x) => nf({ style: "percent", maximumFractionDigits: 1 }).format(x);
/** A whole number of per cent (45 -> 45%). */
export const pctOf = (n) => pct(n / 100);
/** Whole numbers as they are, others with one decimal. */
export const num = (x) => (Number.isInteger(x) ? nf({ maximumFractionDigits: 0 }).format(x) : fmt1(x));

/** A clock time (14:05) in the page's language. */
export const timeText = (date) => date.toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });

const lists = typeof Intl.ListFormat === "function" ? new Intl.ListFormat(LANG, { style: "long", type: "conjunction" }) : null;

/** "a, b and c" in the page's language. */
export function listText(items) {
  const words = items.map(String);
  if (lists) return lists.format(words);
  if (words.length <= 1) return words.join("");
  return fmt(gettext("%(items)s and %(last)s"), { items: words.slice(0, -1).join(", "), last: words[words.length - 1] });
}

/** Nodes (role chips) joined as a sentence list, with the language's separators between them. */
export function listNodes(nodes) {
  if (nodes.length <= 1) return nodes.slice();
  if (lists) {
    const marks = nodes.map((_n, i) => `\u0000${i}\u0000`);
    return lists.formatToParts(marks).map((part) => {
      const m = part.type === "element" ? /^\u0000(\d+)\u0000$/.exec(part.value) : null;
      return m ? nodes[Number(m[1])] : part.value;
    });
  }
  const out = [];
  nodes.forEach((n, i) => {
    if (i > 0) out.push(i === nodes.length - 1 ? ` ${gettext("and")} ` : ", ");
    out.push(n);
  });
  return out;
}
