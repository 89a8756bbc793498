// The /inspect page (SPEC §9): lists active conversations, draws the selected one's flow machine
// with elkjs (served by this service) as plain SVG, follows it live over /inspect/ws and keeps its
// event log. Nothing is loaded from anywhere but this service; the token stays in this tab.
/* global ELK */
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const TOKEN_KEY = 'flowbot-inspect-token';
  const LIST_REFRESH_MS = 5000;
  const MAX_LOG = 300;
  const $ = (id) => document.getElementById(id);

  const params = new URLSearchParams(location.search);
  let token = params.get('token') || sessionStorage.getItem(TOKEN_KEY) || '';
  if (params.has('token')) {
    // Out of the address bar and the history: the token stays in this tab only.
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : ''));
  }
  let conversations = [];
  let selected = null;
  let socket = null;
  let listTimer = null;
  let frameQueue = Promise.resolve();
  let stateElements = new Map();
  let messageTexts = new Map();
  let currentIds = [];
  const elk = new ELK();
  const labelCache = new Map();

  function setStatus(text) {
    $('status').textContent = text;
  }

  async function api(path) {
    const response = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401) throw new Error('the admin token was refused');
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  // ---- conversation list ------------------------------------------------------------------

  function filterQuery() {
    const query = new URLSearchParams();
    const contact = $('filter-contact').value.trim();
    const flow = $('filter-flow').value.trim();
    if (contact) query.set('contact', contact);
    if (flow) query.set('flow', flow);
    return query.toString();
  }

  function describeValue(value) {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      const [entry] = Object.entries(value);
      return entry ? `${entry[0]} › ${describeValue(entry[1])}` : '';
    }
    return '';
  }

  async function refreshList() {
    if (!token) return;
    try {
      const query = filterQuery();
      conversations = await api(`/inspect/api/conversations${query ? `?${query}` : ''}`);
      renderList();
      setStatus(`${conversations.length} active conversation${conversations.length === 1 ? '' : 's'}${selected ? ` · watching #${selected.id}` : ''}`);
    } catch (error) {
      setStatus(error.message);
    }
  }

  function renderList() {
    const list = $('conversations');
    list.replaceChildren();
    for (const conversation of conversations) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.conversationId = String(conversation.id);
      button.setAttribute('aria-pressed', String(selected !== null && selected.id === conversation.id));
      const title = document.createElement('strong');
      title.textContent = `#${conversation.id} · contact ${conversation.contact_id}`;
      const meta = document.createElement('span');
      meta.className = 'meta';
      const paused = conversation.bot_paused ? ' · paused' : '';
      meta.textContent = `${conversation.contact_number || 'no number'} · ${conversation.flow_name || `flow ${conversation.flow_id}`}${paused}`;
      const where = document.createElement('span');
      where.className = 'meta';
      where.textContent = describeValue(conversation.value);
      button.append(title, meta, where);
      button.addEventListener('click', () => select(conversation));
      item.append(button);
      list.append(item);
    }
  }

  // ---- following one conversation ---------------------------------------------------------

  function select(conversation) {
    selected = conversation;
    renderList();
    if (socket) socket.close();
    $('log').replaceChildren();
    $('machine').replaceChildren();
    $('machine-title').textContent = `Conversation #${conversation.id}`;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = new URLSearchParams({ token, conversation: String(conversation.id) });
    const ws = new WebSocket(`${scheme}://${location.host}/inspect/ws?${query}`);
    socket = ws;
    ws.addEventListener('message', (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      // Frames are handled in order even though drawing is asynchronous.
      frameQueue = frameQueue.then(() => (socket === ws ? handle(frame, conversation) : undefined)).catch((error) => log('error', error.message));
    });
    ws.addEventListener('close', () => {
      if (socket === ws) setStatus(`stopped following #${conversation.id}`);
    });
    setStatus(`watching #${conversation.id}`);
  }

  async function handle(frame, conversation) {
    switch (frame.type) {
      case '@xstate.actor': {
        const config = JSON.parse(frame.definition);
        await draw(config, await labelsOf(conversation.flow_version_id));
        mark(frame.snapshot);
        log('actor', `following ${config.id}: ${describeValue(frame.snapshot.value)} (${frame.snapshot.status})`, frame.createdAt);
        break;
      }
      case '@xstate.event':
        log('event', describeEvent(frame.event), frame.createdAt);
        break;
      case '@xstate.snapshot':
        mark(frame.snapshot);
        log('snapshot', `→ ${describeState(frame.snapshot.value)}${frame.snapshot.status === 'done' ? ' (completed)' : ''}`, frame.createdAt);
        break;
      case '@flowbot.dropped':
        log('dropped', `${frame.count} frame(s) dropped: this page fell behind`);
        break;
      default:
        break;
    }
  }

  async function labelsOf(versionId) {
    if (!labelCache.has(versionId)) {
      labelCache.set(versionId, api(`/inspect/api/flow-versions/${versionId}`).catch(() => null));
    }
    return labelCache.get(versionId);
  }

  function describeEvent(event) {
    if (!event) return 'input';
    const parts = [event.type];
    if (typeof event.text === 'string') parts.push(`“${event.text}”`);
    else if (typeof event.textLength === 'number') parts.push(`(text hidden, ${event.textLength} chars)`);
    if (event.file) parts.push(`file ${event.file.name}${event.file.mimeType ? ` (${event.file.mimeType})` : ''}`);
    return parts.join(' ');
  }

  function describeState(value) {
    const ids = leafIds(value);
    const id = ids[ids.length - 1];
    const text = id ? messageTexts.get(id) : undefined;
    return text ? `${id} “${shorten(text, 40)}”` : describeValue(value);
  }

  function log(kind, text, createdAt) {
    const list = $('log');
    const item = document.createElement('li');
    item.className = kind;
    const time = document.createElement('time');
    const at = createdAt ? new Date(Number(createdAt)) : new Date();
    time.textContent = at.toLocaleTimeString();
    item.append(time, document.createTextNode(text));
    list.append(item);
    while (list.children.length > MAX_LOG) list.firstElementChild.remove();
    item.scrollIntoView({ block: 'nearest' });
  }

  // ---- the machine drawing ----------------------------------------------------------------

  const asArray = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  const stripHash = (target) => (typeof target === 'string' && target.startsWith('#') ? target.slice(1) : target);
  const shorten = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
  const textWidth = (text, size) => Math.ceil(text.length * size * 0.58) + 12;

  function guardOf(transition) {
    return typeof transition.guard === 'string' ? { type: transition.guard } : transition.guard;
  }

  function transitionLabel(transition) {
    const guard = guardOf(transition);
    if (!guard) return '';
    if (guard.type === 'noKeywordMatch') {
      const save = asArray(transition.actions).find((action) => action && action.type === 'storeResponse');
      return save ? `reply → {{${save.params.name}}}` : 'reply';
    }
    if (guard.type === 'fileAccepted') {
      const types = (guard.params && guard.params.expectedFileTypes) || [];
      return `file: ${types.length > 0 ? types.join(', ') : 'any'}`;
    }
    return guard.type;
  }

  function waitOf(state) {
    if (state.always) return 'goes on at once';
    const handlers = asArray(state.on && state.on.USER_INPUT);
    const file = handlers.map(guardOf).find((guard) => guard && guard.type === 'fileAccepted');
    if (file) return `waits for a file (${(file.params.expectedFileTypes || []).join(', ') || 'any'})`;
    return 'waits for a reply';
  }

  function wrap(text, perLine, lines) {
    const words = text.replace(/\s+/g, ' ').trim().split(' ');
    const out = [''];
    for (const word of words) {
      const line = out[out.length - 1];
      if ((line + ' ' + word).trim().length <= perLine) out[out.length - 1] = (line + ' ' + word).trim();
      else if (out.length < lines) out.push(shorten(word, perLine));
      else {
        out[out.length - 1] = shorten(`${line} ${word}`, perLine);
        break;
      }
    }
    return out;
  }

  /** The machine config as an ELK graph: subflows as groups, messages as states, labelled arrows. */
  function buildGraph(config, labels) {
    const subflowInfo = new Map(((labels && labels.subflows) || []).map((subflow) => [`sf_${subflow.id}`, subflow]));
    const nodes = [];
    const edges = [];
    const info = new Map();
    const addEdge = (source, target, text, kind) => {
      const id = `e${edges.length}`;
      const labelsOfEdge = text ? [{ id: `${id}l`, text, width: textWidth(text, 11), height: 16 }] : [];
      edges.push({ id, sources: [source], targets: [stripHash(target)], labels: labelsOfEdge });
      info.set(id, { kind });
    };
    const transitionsOf = (id, state) => {
      for (const transition of asArray(state.always)) {
        const target = typeof transition === 'string' ? transition : transition.target;
        if (target) addEdge(id, target, 'then', 'auto');
      }
      for (const transition of asArray(state.on && state.on.USER_INPUT)) {
        const target = typeof transition === 'string' ? transition : transition.target;
        if (target) addEdge(id, target, id === 'start' ? 'first message' : transitionLabel(transition), 'input');
      }
    };
    for (const [key, state] of Object.entries(config.states || {})) {
      const id = state.id || key;
      if (state.states) {
        const children = [];
        for (const [messageKey, message] of Object.entries(state.states)) {
          const messageId = message.id || messageKey;
          const send = asArray(message.entry).find((action) => action && action.type === 'sendFlowMessage');
          const text = send && send.params ? send.params.text : messageKey;
          messageTexts.set(messageId, text);
          children.push({ id: messageId, width: 220, height: 66 });
          info.set(messageId, { kind: 'message', lines: wrap(text, 32, 2), note: `${messageId} · ${waitOf(message)}` });
          transitionsOf(messageId, message);
        }
        const subflow = subflowInfo.get(key);
        const title = subflow ? subflow.name : key;
        nodes.push({ id, children, layoutOptions: { 'elk.padding': '[top=34,left=14,bottom=14,right=14]' } });
        info.set(id, { kind: 'subflow', title: `${title}  (${key})`, minWidth: textWidth(`${title}  (${key})`, 13) });
      } else {
        const final = state.type === 'final';
        nodes.push({ id, width: 130, height: 42 });
        info.set(id, { kind: final ? 'final' : 'start', lines: [final ? 'completed' : key], note: final ? 'final state' : 'before the first input' });
        transitionsOf(id, state);
      }
    }
    const keywordTransitions = asArray(config.on && config.on.USER_INPUT).filter((transition) => transition && transition.target);
    if (keywordTransitions.length > 0) {
      nodes.push({ id: '__any', width: 150, height: 42 });
      info.set('__any', { kind: 'any', lines: ['any message'], note: 'keywords, from anywhere' });
      for (const transition of keywordTransitions) {
        const target = stripHash(transition.target);
        const subflow = subflowInfo.get(target);
        const keywords = subflow && subflow.keywords.length > 0 ? subflow.keywords.join(', ') : 'keyword';
        addEdge('__any', target, `keywords: ${shorten(keywords, 48)}`, 'keyword');
      }
    }
    return {
      graph: {
        id: 'root',
        layoutOptions: {
          'elk.algorithm': 'layered',
          'elk.direction': 'DOWN',
          'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
          'elk.layered.spacing.nodeNodeBetweenLayers': '46',
          'elk.spacing.nodeNode': '34',
          'elk.spacing.edgeLabel': '4',
          'elk.edgeLabels.inline': 'false',
          'elk.layered.edgeLabels.sideSelection': 'ALWAYS_DOWN',
          'elk.padding': '[top=20,left=20,bottom=20,right=20]',
          'elk.json.shapeCoords': 'ROOT',
          'elk.json.edgeCoords': 'ROOT',
        },
        children: nodes,
        edges,
      },
      info,
    };
  }

  function el(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, String(value));
    if (parent) parent.append(element);
    return element;
  }

  function text(parent, x, y, content, className) {
    const node = el('text', { x, y, class: className || '' }, parent);
    node.textContent = content;
    return node;
  }

  async function draw(config, labels) {
    messageTexts = new Map();
    const { graph, info } = buildGraph(config, labels);
    const started = performance.now();
    const laid = await elk.layout(graph);
    const svg = el('svg', { width: laid.width, height: laid.height, viewBox: `0 0 ${laid.width} ${laid.height}`, role: 'img', 'aria-label': `state machine ${config.id}` });
    const defs = el('defs', {}, svg);
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#7d889e' }, marker);
    const groups = el('g', { class: 'groups' }, svg);
    const edgeLayer = el('g', { class: 'edges' }, svg);
    const stateLayer = el('g', { class: 'states' }, svg);
    const labelLayer = el('g', { class: 'edge-labels' }, svg);
    stateElements = new Map();

    const drawNode = (node, parentGroup) => {
      const meta = info.get(node.id) || { kind: 'message', lines: [node.id] };
      if (meta.kind === 'subflow') {
        const group = el('g', { class: 'subflow', 'data-state-id': node.id }, groups);
        el('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 10 }, group);
        text(group, node.x + 12, node.y + 21, meta.title);
        stateElements.set(node.id, group);
        for (const child of node.children || []) drawNode(child, group);
        return;
      }
      const group = el('g', { class: `state ${meta.kind}`, 'data-state-id': node.id, tabindex: 0 }, stateLayer);
      if (parentGroup) group.dataset.parentId = parentGroup.getAttribute('data-state-id');
      el('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 8 }, group);
      const title = el('title', {}, group);
      title.textContent = `${node.id}: ${messageTexts.get(node.id) || meta.lines.join(' ')}`;
      meta.lines.forEach((line, index) => text(group, node.x + 10, node.y + 19 + index * 16, line));
      if (meta.note) text(group, node.x + 10, node.y + node.height - 8, shorten(meta.note, 40), 'state-id');
      stateElements.set(node.id, group);
    };
    for (const node of laid.children || []) drawNode(node, null);

    for (const edge of laid.edges || []) {
      const meta = info.get(edge.id) || { kind: 'input' };
      for (const section of edge.sections || []) {
        const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
        const d = points.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x},${point.y}`).join(' ');
        el('path', { d, class: `edge ${meta.kind}`, 'marker-end': 'url(#arrow)', 'data-edge': `${edge.sources[0]}->${edge.targets[0]}` }, edgeLayer);
      }
      for (const label of edge.labels || []) {
        if (label.x === undefined) continue;
        const group = el('g', { class: 'edge-label' }, labelLayer);
        el('rect', { x: label.x - 2, y: label.y - 1, width: label.width, height: label.height, rx: 3 }, group);
        text(group, label.x + 3, label.y + 12, label.text);
      }
    }
    $('machine').replaceChildren(svg);
    $('machine').dataset.renderMs = String(Math.round(performance.now() - started));
    $('machine-title').textContent = `Conversation #${selected ? selected.id : ''} · ${labels && labels.name ? labels.name : config.id}`;
  }

  function leafIds(value) {
    if (typeof value === 'string') return [value];
    if (!value || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([key, child]) => [key, ...leafIds(child)]);
  }

  /** Marks the state the snapshot is in (`aria-current="step"`) and the subflow holding it. */
  function mark(snapshot) {
    for (const id of currentIds) {
      const element = stateElements.get(id);
      if (element) {
        element.removeAttribute('aria-current');
        element.classList.remove('holds-current');
      }
    }
    const ids = snapshot && snapshot.status === 'done' ? ['completed'] : leafIds(snapshot && snapshot.value);
    currentIds = ids;
    ids.forEach((id, index) => {
      const element = stateElements.get(id);
      if (!element) return;
      if (index === ids.length - 1) {
        element.setAttribute('aria-current', 'step');
        element.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      } else {
        element.classList.add('holds-current');
      }
    });
    if (selected) {
      selected.value = snapshot ? snapshot.value : selected.value;
      const button = document.querySelector(`button[data-conversation-id="${selected.id}"] .meta:last-child`);
      if (button) button.textContent = describeValue(selected.value);
    }
  }

  // ---- wiring -----------------------------------------------------------------------------

  function connect() {
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = token;
    if (listTimer) clearInterval(listTimer);
    listTimer = setInterval(refreshList, LIST_REFRESH_MS);
    return refreshList();
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    connect();
  });
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    refreshList();
  });
  if (token) connect();
  else setStatus('enter the admin token');
})();
