// A tiny YAML emitter for test configs: block mappings and sequences,
// strings always double-quoted (JSON escapes are valid YAML escapes).

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function scalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`toYaml: non-finite number ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  throw new Error(`toYaml: unsupported value ${typeof v}`);
}

function key(k) {
  return PLAIN_KEY.test(k) ? k : JSON.stringify(k);
}

function isBlock(v) {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length > 0;
}

function emptyOf(v) {
  return Array.isArray(v) ? '[]' : '{}';
}

function emit(v, indent, out) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isBlock(item)) {
        const lines = [];
        emit(item, indent + 2, lines);
        // first line goes after "- "
        out.push(pad + '- ' + lines[0].slice(indent + 2));
        for (const l of lines.slice(1)) out.push(l);
      } else if (item !== null && typeof item === 'object') {
        out.push(pad + '- ' + emptyOf(item));
      } else {
        out.push(pad + '- ' + scalar(item));
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue;
    if (isBlock(val)) {
      out.push(pad + key(k) + ':');
      emit(val, indent + 2, out);
    } else if (val !== null && typeof val === 'object') {
      out.push(pad + key(k) + ': ' + emptyOf(val));
    } else {
      out.push(pad + key(k) + ': ' + scalar(val));
    }
  }
}

/** Serialise a plain object (mappings, arrays, strings, numbers, booleans) as block YAML. */
export function toYaml(obj) {
  const out = [];
  emit(obj, 0, out);
  return out.join('\n') + '\n';
}
