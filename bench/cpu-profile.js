// Summarises a V8 CPU profile (`node --cpu-prof`, the .cpuprofile JSON) for the bench: self time by function and
// by module (an npm package, a pgpipe source directory, a Node internal area, or V8's own "(garbage collector)",
// "(program)"), as shares of the busy time (idle left out); and by module again with the time of Node's own code
// (node:* and native: V8 builtins, C++ bindings) charged to the nearest package or pgpipe frame that called it,
// which says who asked for it (a callback Node runs from the event loop has no such caller and stays as it is). Pure.

/** Where a frame's code lives, coarse enough to say what the time goes to. */
export function moduleOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle), (root)
    return '(native: V8 builtins and C++ bindings)';
  }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}` : parts[0]}`.replace(/\.js$/, '');
  }
  const inPackage = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1];
  const ours = /\/dist\/(.+)$/.exec(url);
  if (ours) return `pgpipe ${ours[1].split('/').slice(0, -1).join('/') || ours[1]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url) {
  if (!url) return '';
  const inPackage = /\/node_modules\/(.+)$/.exec(url);
  if (inPackage) return inPackage[1];
  const ours = /\/dist\/(.+)$/.exec(url);
  if (ours) return `dist/${ours[1]}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * @param {{ nodes: object[], samples: number[], timeDeltas: number[] }} profile
 * @returns {{ busyMs: number, idleMs: number, functions: object[], modules: object[] }} top entries, percent of busy
 */
export function summariseProfile(profile, { top = 15, windowUs = null } = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ownCode = (url) => url.includes('/node_modules/') || url.includes('/dist/');
  /** The nearest frame at or above `id` in a package or in pgpipe: who called into Node; null when nobody did. */
  const caller = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at))
      if (ownCode(byId.get(at).callFrame.url)) return byId.get(at);
    return null;
  };
  const selfUs = new Map();
  // Sample times are on V8's monotonic clock (CLOCK_MONOTONIC on Linux, as process.hrtime): with a window, only the
  // samples inside it count (the load's measured stretch, without start-up and warm-up).
  let at = profile.startTime;
  let inWindow = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windowUs !== null && (at < windowUs[0] || at > windowUs[1])) return;
    inWindow += 1;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let idleUs = 0;
  let busyUs = 0;
  const functions = new Map();
  const modules = new Map();
  const charged = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const module = moduleOf(callFrame);
    const name = callFrame.functionName || '(anonymous)';
    const key = `${name} ${callFrame.url}:${callFrame.lineNumber}`;
    const entry = functions.get(key) ?? { name, where: shortUrl(callFrame.url), line: callFrame.lineNumber + 1, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    modules.set(module, (modules.get(module) ?? 0) + us);
    const nodeOwn = !ownCode(callFrame.url) && !callFrame.functionName.startsWith('(');
    const asker = nodeOwn ? caller(id) : null;
    const payer = asker === null ? module : moduleOf(asker.callFrame);
    charged.set(payer, (charged.get(payer) ?? 0) + us);
  }
  const ranked = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: share(us) }));
  const share = (us) => (busyUs > 0 ? (us / busyUs) * 100 : 0);
  return {
    samples: inWindow,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ ...f, ms: f.us / 1000, percent: share(f.us) })),
    modules: ranked(modules),
    charged: ranked(charged),
  };
}
