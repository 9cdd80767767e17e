// The dashboard's events between two snapshots (host.state): each table's event, in seq order,
// applied to the snapshot the page holds, so the cards follow the table without a round trip.
// Asks for a fresh snapshot (hello) where an event alone cannot say it all (a table it does not
// know, a gap in the seq, who still has to sign). Pure state: no DOM.

/**
 * Apply one `event` frame to S (the latest host.state). seen: table id -> highest seq applied.
 * hello(ms): ask for a fresh snapshot after ms. Returns true when S changed (render it).
 */
export function applyEvent(S, seen, msg, hello) {
  if (!S) return false;
  const t = S.tables.find((x) => x.id === msg.table);
  if (!t) {
    hello(300); // a table we do not know yet
    return false;
  }
  const last = seen.get(t.id) ?? t.seq ?? 0;
  if (msg.seq <= last) return false; // already in the snapshot
  if (msg.seq > last + 1) hello(300); // a gap: fetch a fresh snapshot
  seen.set(t.id, msg.seq);
  t.seq = msg.seq;
  t.last_activity = msg.at || t.last_activity;
  const d = msg.data || {};
  switch (msg.kind) {
    case "proposal.made": {
      const p = { ...d.proposal, required: d.proposal?.required || [], pending: [] };
      t.proposals = [...(t.proposals || []).filter((x) => x.id !== p.id), p];
      for (const id of d.closed || []) setStatus(t, id, "replaced");
      hello(600); // the snapshot knows who still has to sign
      break;
    }
    case "proposal.answered": {
      const p = (t.proposals || []).find((x) => x.id === d.proposal);
      if (p) p.answers = { ...(p.answers || {}), [d.role]: d.answer };
      hello(600);
      break;
    }
    case "proposal.withdrawn":
      setStatus(t, d.proposal, "withdrawn");
      break;
    case "agreement.reached":
      t.agreement = d.proposal;
      t.ended = true;
      setStatus(t, d.proposal, "agreed");
      for (const id of d.closed || []) setStatus(t, id, "closed");
      break;
    case "game.ended":
      t.ended = true;
      t.outcome = d;
      break;
    case "phase.changed":
      if (d.phase && S.session.status === "running") S.session.phase = { ...S.session.phase, ...d.phase };
      t.started = true;
      break;
    case "news":
      t.news = [...new Set([...(t.news || []), d.key])];
      break;
    case "seats":
      if (Array.isArray(d.seats)) t.seats = d.seats;
      break;
    case "presence":
      for (const seat of t.seats || []) {
        if (seat.role !== d.role) continue;
        for (const p of seat.players || []) if (p.name === d.name) p.connected = !!d.connected;
      }
      for (const p of S.players) if (p.name === d.name && p.table === t.id) p.connected = !!d.connected;
      break;
    default:
      break; // chat and anything new: only the activity time changes (never shown on the projector)
  }
  return true;
}

function setStatus(t, id, status) {
  const p = (t.proposals || []).find((x) => x.id === id);
  if (p) p.status = status;
}
