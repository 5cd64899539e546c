import type { RoleView } from '../node/node.ts';

/** `GET /`: a small page with this node's view of the cluster, refreshed every 2 s. */
export function renderStatusPage(view: RoleView): string {
  const rows = view.nodes.map((n) => `<tr><td>${escape(n.addr)}</td><td>${n.role}</td><td>${n.alive ? 'alive' : 'down'}</td></tr>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>twopc ${escape(view.addr)}</title><meta http-equiv="refresh" content="2"></head>
<body><h1>twopc node ${escape(view.addr)}</h1><p>role ${view.role} · epoch ${view.epoch} · last sequence ${view.last_sequence} · master ${escape(view.master ?? 'none')}</p>
<table><thead><tr><th>node</th><th>role</th><th>alive</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
