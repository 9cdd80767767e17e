/**
 * A countdown's text, one for every screen of a class: the player page, the dashboard and the
 * projector. Whole seconds rounded up, so "00:01" shows until the time is really up (then the
 * caller says so in words) and two screens agree at the same instant; hours only when there are
 * any ("1:05:00"; a long phase read "65:00" on the dashboard and "1:05:00" on the projector).
 */
export function clockText(seconds) {
  const s = Math.max(0, Math.ceil(Number(seconds) || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}
