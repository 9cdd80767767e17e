// Role colours and labels, in one place for every page.
//
// A scenario gives each role a colour. The pages draw with CSS classes, never inline styles
// (the Content-Security-Policy refuses them): installRoleColours writes one rule per role into
// the page's nonce'd <style id="role-style"> (custom properties --role-<key>, a darker
// --role-<key>-text for text on white at 5.2:1 or more, a --role-<key>-badge with its --on-role-
// text colour at 4.5:1 or more), and `.role-<key>` selects them. roleChip builds the chip.

import { h } from "./dom.js";

export const cssKey = (k) => String(k).replace(/[^a-zA-Z0-9_-]/g, "_");

function hexToRgb(hex) {
  const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(hex || "");
  if (!m) return null;
  let v = m[1];
  if (v.length === 3) v = v.split("").map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16));
}
function luminance([r, g, b]) {
  const f = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
/** The WCAG contrast ratio of two [r, g, b] colours. */
export function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
const toHex = (rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
const WHITE = [255, 255, 255];
const INK = [27, 31, 36];
const FALLBACK = ["#0072b2", "#d55e00", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#7a5c00", "#555555"];

/** The CSS of the roles' colours (custom properties and .role-<key> rules). */
export function roleColourCss(roles) {
  const vars = [];
  const rules = [];
  roles.forEach((r, i) => {
    const key = cssKey(r.key);
    const rgb = hexToRgb(r.colour) || hexToRgb(FALLBACK[i % FALLBACK.length]);
    // A darker shade of the same hue for text on white (contrast at least 4.5:1).
    // (5.2:1 on white keeps 4.5:1 on the page's light tints too.)
    let text = rgb.slice();
    for (let k = 0; k < 30 && contrast(text, WHITE) < 5.2; k++) text = text.map((c) => c * 0.93);
    // Badges: the role colour with white or dark text, whichever reads better; if neither
    // reaches 4.5:1 (a mid orange), a darker shade of the colour under white text.
    let badge = rgb.slice();
    let on = contrast(WHITE, rgb) >= contrast(INK, rgb) ? "#ffffff" : "#1b1f24";
    if (Math.max(contrast(WHITE, rgb), contrast(INK, rgb)) < 4.5) {
      on = "#ffffff";
      for (let k = 0; k < 30 && contrast(badge, WHITE) < 4.6; k++) badge = badge.map((c) => c * 0.95);
    }
    vars.push(`--role-${key}:${toHex(rgb)};--role-${key}-text:${toHex(text)};--role-${key}-badge:${toHex(badge)};--on-role-${key}:${on};`);
    rules.push(
      `.role-${key}{--c:var(--role-${key});--ct:var(--role-${key}-text);--on:var(--on-role-${key});}`,
      `.badge.role-${key}{background:var(--role-${key}-badge);color:var(--on-role-${key});}`,
    );
  });
  return `:root{${vars.join("")}}\n${rules.join("\n")}`;
}

/** Write the roles' colours into the page's <style id="role-style"> (its nonce lets it apply). */
export function installRoleColours(roles, styleEl = document.getElementById("role-style")) {
  if (styleEl) styleEl.textContent = roleColourCss(roles);
}

/** A role's short label: its initials ("EU"), or one or two letters where first letters clash. */
export function initials(role, roles = []) {
  const words = String(role.name || role.key).split(/[\s-]+/).filter(Boolean);
  if (words.length > 1) return words.slice(0, 2).map((w) => w[0]).join("").toUpperCase();
  const name = String(role.name || role.key);
  const clash = roles.some((o) => o.key !== role.key && String(o.name)[0]?.toUpperCase() === name[0]?.toUpperCase());
  return clash ? name.slice(0, 2) : name.slice(0, 1).toUpperCase();
}

/** The player page's chip: <span class="role role-<key>">Name</span>. */
export function roleChip(role, { label = null, cls = "" } = {}) {
  return h("span", { class: `role role-${cssKey(role.key)} ${cls}`.trim() }, label || role.name || role.key);
}

/** The dashboard's chip: <span class="role-chip role-<key>" title="Name">Name or initials</span>. */
export function roleBadge(role, { short = false, roles = [] } = {}) {
  return h("span", { class: `role-chip role-${role.key}`, title: role.name }, short ? initials(role, roles) : role.name);
}
