// What a screen reader hears as the game moves: one polite live region, fed by say(); what
// arrives together is spoken together, chat beyond a few lines as a summary, nothing twice.

import { fmt, gettext, listText, ngettext } from "../i18n.js";
import { $, S, myRole, parseTime, you } from "./state.js";

// --- what a screen reader hears -------------------------------------------------------------------
// One polite live region (#announcer) speaks for the whole page: the other parties' proposals,
// answers and chat lines, the agreement, news, phase changes and the clock's last minute. Events
// that arrive close together (a burst of answers, a reconnect catching up) are spoken as one
// announcement; more than a few chat lines at once are summed up instead of read out; each event is
// spoken once (its key), never when a snapshot re-renders the page. The page's own moves are
// confirmed where they were made (the builder's and the chat's status lines), not here again.
export const SAY_DELAY = 900; // ms: what arrives within this is spoken together
export const SAY_MAX_CHAT = 3; // beyond this many chat lines in one announcement, a summary
export const said = new Set();
export let sayQueue = [];
export let sayTimer = null;

export function say(kind, text, key = null, meta = {}) {
  if (!text) return;
  if (key !== null) {
    if (said.has(key)) return;
    said.add(key);
  }
  sayQueue.push({ kind, text, ...meta });
  if (!sayTimer) sayTimer = setTimeout(flushSay, SAY_DELAY);
}

export function chatSummary(chats) {
  const parts = [];
  for (const channel of ["table", "private"]) {
    const mine = chats.filter((c) => c.channel === channel);
    if (!mine.length) continue;
    const from = listText([...new Set(mine.map((c) => c.from))]);
    const n = mine.length;
    const text =
      channel === "table"
        ? ngettext("%(n)s to the table from %(from)s", "%(n)s to the table from %(from)s", n)
        : ngettext("%(n)s to you privately from %(from)s", "%(n)s to you privately from %(from)s", n);
    parts.push(fmt(text, { n, from }));
  }
  const n = chats.length;
  return fmt(ngettext("%(n)s new chat message: %(parts)s. Open the chat to read them.", "%(n)s new chat messages: %(parts)s. Open the chat to read them.", n), {
    n,
    parts: parts.join("; "),
  });
}

export function flushSay() {
  sayTimer = null;
  const items = sayQueue;
  sayQueue = [];
  if (!items.length) return;
  const chats = items.filter((i) => i.kind === "chat");
  const parts = [];
  let summed = false;
  for (const i of items) {
    if (i.kind !== "chat" || chats.length <= SAY_MAX_CHAT) parts.push(i.text);
    else if (!summed) {
      parts.push(chatSummary(chats));
      summed = true;
    }
  }
  const el = $("announcer");
  el.textContent = "";
  // Emptied first, then filled: the same words twice in a row are spoken twice.
  setTimeout(() => (el.textContent = parts.join(" ")), 60);
}

/** The clock in words: "7 minutes 42 seconds", "1 minute", "45 seconds". */
export function spokenClock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const r = s % 60;
  const mins = m ? fmt(ngettext("%(n)s minute", "%(n)s minutes", m), { n: m }) : "";
  const secs = r || !m ? fmt(ngettext("%(n)s second", "%(n)s seconds", r), { n: r }) : "";
  return [mins, secs].filter(Boolean).join(" ");
}

export function secondsLeft(ph) {
  if (!ph) return 0;
  if (ph.paused) return ph.remaining || 0;
  return ph.ends_at ? (parseTime(ph.ends_at) - (Date.now() + (S.offset || 0))) / 1000 : 0;
}

export function pausedSentence(ph) {
  return fmt(gettext("The clock is paused with %(time)s left."), { time: spokenClock(ph.remaining || 0) });
}

export function clockSentence(ph) {
  if (ph.paused) return pausedSentence(ph);
  if (ph.ends_at) return fmt(gettext("%(time)s on the clock."), { time: spokenClock(secondsLeft(ph)) });
  return gettext("No time limit.");
}

/** A chat line this seat sent (the student, or a teammate in the same seat is not "mine"). */
export function isMine(m) {
  const y = you();
  return m.role === myRole() && (!m.name || !y.name || m.name === y.name);
}

export function addChat(c) {
  if (typeof c.seq !== "number" || S.chatSeqs.has(c.seq)) return;
  S.chatSeqs.add(c.seq);
  const ch = c.channel || "table";
  if (!S.chat.has(ch)) S.chat.set(ch, []);
  const list = S.chat.get(ch);
  list.push(c);
  if (list.length > 1 && list[list.length - 2].seq > c.seq) list.sort((a, b) => a.seq - b.seq);
}
