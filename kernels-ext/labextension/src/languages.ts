/**
 * CodeMirror 6 stream-parser languages for WIT (WebAssembly Interface Types) and WAC (WebAssembly
 * Compositions).  Both share one tokenizer; they differ only in their keyword sets.
 *
 * Token styles are CodeMirror highlight tag names, so JupyterLab's own theme colours them, and the
 * language also attaches CodeMirror's class highlighter: every token carries a stable `tok-<tag>` class
 * (what tests and user CSS can select on).
 */

import {
  LanguageSupport,
  StreamLanguage,
  StringStream,
  syntaxHighlighting
} from '@codemirror/language';
import { classHighlighter } from '@lezer/highlight';

export const WIT_MIME = 'text/x-wit';
export const WAC_MIME = 'text/x-wac';

const SHARED_KEYWORDS = [
  'package', 'world', 'interface', 'import', 'export', 'use', 'include', 'func', 'async', 'resource',
  'record', 'variant', 'enum', 'flags', 'type', 'constructor', 'static', 'as', 'with', 'own', 'borrow',
  'list', 'option', 'result', 'tuple', 'stream', 'future'
];
const WAC_ONLY_KEYWORDS = ['let', 'new', 'targets'];
const PRIMITIVE_TYPES = [
  'bool', 's8', 's16', 's32', 's64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64', 'float32', 'float64',
  'char', 'string', 'error-context'
];
/** A keyword after which the next identifier is the name being defined. */
const DEFINING_KEYWORDS = new Set([
  'world', 'interface', 'record', 'variant', 'enum', 'flags', 'resource', 'type', 'let'
]);

// Highlight tags (see @lezer/highlight `tags`); JupyterLab's theme styles each of them.
const STYLE = {
  magic: 'meta',
  gate: 'meta',
  keyword: 'keyword',
  primitive: 'typeName variableName.standard',
  definition: 'variableName.definition',
  field: 'propertyName',
  identifier: 'variableName',
  packagePath: 'namespace string.special',
  version: 'number',
  number: 'number',
  string: 'string',
  comment: 'comment',
  docComment: 'docComment',
  operator: 'operator',
  bracket: 'bracket',
  punctuation: 'punctuation'
};

// WIT identifiers are kebab-case; a leading `%` escapes a keyword (`%world` is a plain name).
const IDENTIFIER = /^%?[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*/;
// `ns:pkg`, `ns:pkg/iface`, `ns:a/b/c` (WAC allows nested paths); no spaces around the colon.
const PACKAGE_PATH = /^%?[a-z][a-z0-9]*(?:-[a-z0-9]+)*:%?[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\/%?[A-Za-z][\w-]*)*/;
const VERSION = /^@\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?/;
const GATE = /^@[a-z][a-z-]*/; // @since(version = 0.2.0), @unstable(feature = x), @deprecated(...)

interface IState {
  /** Depth of nested block comments (WIT's block comments nest); 0 outside a comment. */
  commentDepth: number;
  /** Whether the open block comment is a doc comment (opened with two stars). */
  docBlock: boolean;
  /** The previous token was a defining keyword: style the next identifier as a definition. */
  defining: boolean;
  /** Still on the cell's first line, where the `%%wit` / `%%wac` magic and its options live. */
  onMagicLine: boolean;
  seenFirstLine: boolean;
}

function blockComment(stream: StringStream, state: IState): string {
  while (!stream.eol()) {
    if (stream.match('/*')) {
      state.commentDepth++;
    } else if (stream.match('*/')) {
      state.commentDepth--;
      if (state.commentDepth === 0) {
        break;
      }
    } else {
      stream.next();
    }
  }
  return state.docBlock ? STYLE.docComment : STYLE.comment;
}

function makeTokenizer(keywords: Set<string>) {
  const primitives = new Set(PRIMITIVE_TYPES);

  return function token(stream: StringStream, state: IState): string | null {
    if (stream.sol() && !state.seenFirstLine && stream.match(/^\s*$/)) {
      return null; // a blank line before the magic
    }
    if (stream.sol() && !state.seenFirstLine) {
      state.seenFirstLine = true;
      state.onMagicLine = stream.match(/^%%\w+/, false) !== null;
    } else if (stream.sol()) {
      state.onMagicLine = false;
    }
    if (state.onMagicLine) {
      stream.skipToEnd();
      return STYLE.magic;
    }
    if (state.commentDepth > 0) {
      return blockComment(stream, state);
    }
    if (stream.eatSpace()) {
      return null;
    }
    if (stream.match(/^\/\/\/(?!\/).*/)) {
      return STYLE.docComment;
    }
    if (stream.match(/^\/\/.*/)) {
      return STYLE.comment;
    }
    if (stream.match('/*')) {
      state.commentDepth = 1;
      state.docBlock = stream.match(/^\*(?!\/)/, false) !== null;
      return blockComment(stream, state);
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) {
      return STYLE.string;
    }
    if (stream.match(VERSION)) {
      return STYLE.version;
    }
    if (stream.match(GATE)) {
      return STYLE.gate;
    }
    if (stream.match(PACKAGE_PATH)) {
      state.defining = false;
      return STYLE.packagePath;
    }
    const word = stream.match(IDENTIFIER) as RegExpMatchArray | null;
    if (word) {
      const name = word[0];
      if (keywords.has(name)) {
        state.defining = DEFINING_KEYWORDS.has(name);
        return STYLE.keyword;
      }
      if (primitives.has(name)) {
        return STYLE.primitive;
      }
      if (state.defining) {
        state.defining = false;
        return STYLE.definition;
      }
      // `greet: func(...)`, `greet: async func`, `make: static func` define a function;
      // `name: string` is a field.
      if (stream.match(/^\s*:\s*(?:async\s+|static\s+)*func\b/, false)) {
        return STYLE.definition;
      }
      if (stream.match(/^\s*:(?!:)/, false)) {
        return STYLE.field;
      }
      return STYLE.identifier;
    }
    state.defining = false;
    if (stream.match(/^\d+(?:\.\d+)*/)) {
      return STYLE.number;
    }
    if (stream.match('->') || stream.match('...') || stream.match(/^[=*]/)) {
      return STYLE.operator;
    }
    if (stream.match(/^[{}()<>[\]]/)) {
      return STYLE.bracket;
    }
    stream.next();
    return STYLE.punctuation;
  };
}

function defineLanguage(name: string, keywords: string[]): StreamLanguage<IState> {
  return StreamLanguage.define<IState>({
    name,
    startState: () => ({
      commentDepth: 0,
      docBlock: false,
      defining: false,
      onMagicLine: false,
      seenFirstLine: false
    }),
    copyState: state => ({ ...state }),
    token: makeTokenizer(new Set(keywords)),
    languageData: {
      commentTokens: { line: '//', block: { open: '/*', close: '*/' } },
      closeBrackets: { brackets: ['(', '[', '{', '<', '"'] }
    }
  });
}

export const witLanguage = defineLanguage('wit', SHARED_KEYWORDS);
export const wacLanguage = defineLanguage('wac', [...SHARED_KEYWORDS, ...WAC_ONLY_KEYWORDS]);

/** The editor extension for a language: its parser plus stable `tok-*` classes on every token. */
export function languageSupport(language: StreamLanguage<IState>): LanguageSupport {
  return new LanguageSupport(language, [syntaxHighlighting(classHighlighter)]);
}
