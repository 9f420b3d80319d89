/**
 * Espruino-compatibility check of a firmware bundle.
 *
 * V8 runs things Espruino 2v29 cannot, so the simulator refuses a bundle that relies on them
 * (reference §0 and §5): function/var hoisting, X.prototype.method of built-ins, array holes,
 * unsupported syntax (destructuring, spread, default params, async, generators, labels,
 * computed keys, ?., **, class fields...), `arr.length = n`, regex features the Espruino regex
 * engine lacks (?, {n}, (?:), lookahead, backreferences, | inside a group, \b), and \u escapes
 * above 0xFF (ESP builds have no unicode).
 */
import * as acorn from 'acorn';

export interface LintIssue {
  line: number;
  column: number;
  message: string;
}

type Node = acorn.Node & Record<string, any>;

const BUILTIN_PROTO_OWNERS = new Set(['Array', 'String', 'Function', 'Number', 'Boolean', 'RegExp', 'Date', 'Promise']);
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

interface Scope {
  /** name -> declaration position (function declarations and vars, not params) */
  decls: Map<string, { pos: number; kind: string }>;
  params: Set<string>;
  refs: { name: string; pos: number }[];
}

function regexIssues(pattern: string, flags: string): string[] {
  const out: string[] = [];
  const bad = flags.replace(/[gi]/g, '');
  if (bad) out.push(`regex flag(s) "${bad}" are not supported by Espruino (only g and i)`);
  let depth = 0;
  let inClass = false;
  let prevAtomEndsGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (!inClass) {
        if (/[1-9]/.test(n)) out.push('regex backreferences throw on Espruino');
        else if (n === 'b') out.push('regex \\b means backspace on Espruino, not a word boundary');
        else if (/[BuUcpPk]/.test(n)) out.push(`regex escape \\${n} is not supported by Espruino`);
      }
      i++;
      prevAtomEndsGroup = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      prevAtomEndsGroup = false;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') out.push('regex (?...) groups / lookarounds are not supported by Espruino');
      depth++;
      prevAtomEndsGroup = false;
      continue;
    }
    if (c === ')') {
      depth = Math.max(0, depth - 1);
      prevAtomEndsGroup = true;
      continue;
    }
    if (c === '?') out.push('regex ? quantifier silently fails to match on Espruino');
    else if (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) out.push('regex {n} quantifier silently fails to match on Espruino');
    else if ((c === '*' || c === '+') && prevAtomEndsGroup) out.push('regex quantifier on a group is not supported by Espruino (only on a single char or class)');
    else if (c === '|' && depth > 0) out.push('regex | inside a group is not supported by Espruino (top level only)');
    prevAtomEndsGroup = false;
  }
  return [...new Set(out)];
}

/** Lint `code`; returns the issues (empty = fine). Throws on a syntax error. */
export function lintBundle(code: string): LintIssue[] {
  const issues: LintIssue[] = [];
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: true }) as Node;
  const add = (node: Node, message: string) => {
    const loc = node.loc!.start;
    issues.push({ line: loc.line, column: loc.column + 1, message });
  };
  const scopes: Scope[] = [];
  const newScope = (): Scope => ({ decls: new Map(), params: new Set(), refs: [] });
  const finish = (s: Scope) => {
    for (const r of s.refs) {
      const d = s.decls.get(r.name);
      if (d && !s.params.has(r.name) && r.pos < d.pos) {
        const { line, column } = acorn.getLineInfo(code, r.pos);
        issues.push({
          line, column: column + 1,
          message: `"${r.name}" is used before its ${d.kind} declaration: Espruino does not hoist ${d.kind === 'function' ? 'function declarations' : 'var'} (build with terser compress.hoist_funs, or declare it first)`,
        });
      }
    }
  };
  const declareParam = (p: Node, scope: Scope) => {
    if (p.type === 'Identifier') scope.params.add(p.name);
  };

  const visit = (node: Node, parent: Node | undefined, key: string | undefined): void => {
    const scope = scopes[scopes.length - 1];
    switch (node.type) {
      case 'ArrayPattern':
      case 'ObjectPattern':
        add(node, 'destructuring is not supported by Espruino');
        break;
      case 'RestElement':
        add(node, 'rest parameters/elements are not supported by Espruino');
        break;
      case 'SpreadElement':
        add(node, 'spread (...) is not supported by Espruino');
        break;
      case 'AssignmentPattern':
        add(node, 'default parameters are not supported by Espruino');
        break;
      case 'ChainExpression':
        add(node, 'optional chaining ?. is not supported by Espruino');
        break;
      case 'AwaitExpression':
        add(node, 'await is not supported by Espruino');
        break;
      case 'YieldExpression':
        add(node, 'generators are not supported by Espruino');
        break;
      case 'LabeledStatement':
        add(node, 'labels are not supported by Espruino');
        break;
      case 'PropertyDefinition':
        add(node, 'class fields are not supported by Espruino (they end up on the prototype)');
        break;
      case 'PrivateIdentifier':
        add(node, '#private members are not supported by Espruino');
        break;
      case 'MetaProperty':
        add(node, `${node.meta.name}.${node.property.name} is not supported by Espruino`);
        break;
      case 'ImportExpression':
      case 'ImportDeclaration':
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        add(node, 'ES modules are not supported by Espruino (bundle as an IIFE)');
        break;
      case 'BinaryExpression':
        if (node.operator === '**') add(node, '** is not supported by Espruino');
        break;
      case 'AssignmentExpression':
        if (['**=', '??=', '||=', '&&='].includes(node.operator)) add(node, `${node.operator} is not supported by Espruino`);
        if (node.left.type === 'MemberExpression' && !node.left.computed && node.left.property.name === 'length') {
          add(node, 'assigning .length throws "Assignment to a constant" on Espruino arrays (use splice)');
        }
        break;
      case 'Property':
        if (node.computed) add(node, 'computed property keys are not supported by Espruino');
        break;
      case 'MethodDefinition':
        if (node.computed) add(node, 'computed method names are not supported by Espruino');
        break;
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.superClass && node.superClass.type !== 'Identifier') add(node, 'class extends must name an identifier on Espruino');
        break;
      case 'ArrayExpression':
        if (node.elements.some((e: Node | null) => e === null)) {
          add(node, 'array literal with holes throws a SyntaxError on Espruino when skipped (replace holes with void 0)');
        }
        break;
      case 'Literal':
        if (node.regex) for (const m of regexIssues(node.regex.pattern, node.regex.flags)) add(node, m);
        if (typeof node.bigint === 'string') add(node, 'BigInt literals are not supported by Espruino');
        // the source is ASCII (checked before), so a char above 0xFF came from an escape
        if (typeof node.value === 'string' && /[^\x00-\xff]/.test(node.value)) {
          add(node, 'a \\u escape above \\u00FF: ESP builds have no unicode, the char becomes a single byte (write UTF-8 bytes as \\xNN)');
        }
        break;
      case 'TemplateElement':
        if (/[^\x00-\xff]/.test(node.value.cooked ?? '')) add(node, 'a \\u escape above \\u00FF in a template: ESP builds have no unicode');
        break;
      case 'MemberExpression':
        if (!node.computed && node.object.type === 'MemberExpression' && !node.object.computed &&
            node.object.property.name === 'prototype' && node.object.object.type === 'Identifier' &&
            BUILTIN_PROTO_OWNERS.has(node.object.object.name) &&
            !(parent?.type === 'AssignmentExpression' && key === 'left')) {
          add(node, `${node.object.object.name}.prototype.${node.property.name} is undefined on Espruino (use an instance, e.g. [].slice.call; terser compress.unsafe_proto)`);
        }
        break;
      case 'VariableDeclaration':
        if (node.kind === 'var' && scope) {
          for (const d of node.declarations as Node[]) {
            if (d.id.type === 'Identifier' && !scope.decls.has(d.id.name)) scope.decls.set(d.id.name, { pos: d.id.start, kind: 'var' });
          }
        }
        break;
      case 'CatchClause':
        if (node.param && scope) declareParam(node.param, scope);
        break;
      case 'Identifier':
        if (scope && isReference(node, parent, key)) scope.refs.push({ name: node.name, pos: node.start });
        break;
    }
    if (FUNCTION_TYPES.has(node.type)) {
      if (node.async) add(node, 'async functions are not supported by Espruino');
      if (node.generator) add(node, 'generators are not supported by Espruino');
      if (node.type === 'FunctionDeclaration' && node.id && scope && !scope.decls.has(node.id.name)) {
        scope.decls.set(node.id.name, { pos: node.start, kind: 'function' });
      }
      const s = newScope();
      for (const p of node.params as Node[]) declareParam(p, s);
      if (node.type !== 'ArrowFunctionExpression') s.params.add('arguments');
      scopes.push(s);
      for (const p of node.params as Node[]) visit(p, node, 'params');
      visit(node.body, node, 'body');
      scopes.pop();
      finish(s);
      return;
    }
    for (const k of Object.keys(node)) {
      if (k === 'loc' || k === 'type' || k === 'start' || k === 'end') continue;
      const v = node[k];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === 'string') visit(c, node, k);
      } else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v, node, k);
    }
  };

  const top = newScope();
  scopes.push(top);
  visit(ast, undefined, undefined);
  scopes.pop();
  finish(top);
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  return issues;
}

function isReference(node: Node, parent: Node | undefined, key: string | undefined): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case 'MemberExpression':
      return key !== 'property' || parent.computed;
    case 'Property':
      return key === 'value' || parent.computed || (parent.shorthand && key === 'key');
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return key !== 'key' || parent.computed;
    case 'VariableDeclarator':
      return key !== 'id';
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return key === 'body';
    case 'ClassDeclaration':
    case 'ClassExpression':
      return key !== 'id';
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false;
    case 'CatchClause':
      return key !== 'param';
    default:
      return true;
  }
}
