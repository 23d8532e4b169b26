/**
 * The labeled code-search set of bench/relevance.ts, built the CodeSearchNet way from the
 * JavaScript and TypeScript sources under node_modules trees (code nobody here wrote):
 *
 * - every named function with a body (function declarations, class methods, functions and
 *   arrows assigned to a variable, a property or `x.y = …`) of 3–200 lines and at most
 *   `CODE_CHARS_MAX` characters is a document: its code *without* its leading doc comment;
 *   functions nested in a collected function are part of it, not documents of their own;
 * - duplicates are dropped (the same code with whitespace removed, or the same name with the
 *   same doc comment: a package's CommonJS and ESM builds, TypeScript's two bundles), the first
 *   in sorted path order kept;
 * - a documented function is a query candidate when the first sentence of its doc comment
 *   (tags cut, `{@link X}` → `X`) has 3–30 words, is not the first sentence of any other
 *   documented function, and its name does not mention tests; `QUERY_COUNT` of them are drawn
 *   with a fixed seed. The query is that sentence; the target is that function's document;
 *   every other document is a distractor.
 *
 * Files: `.js`, `.mjs`, `.cjs`, `.ts` (not `.d.ts`) of at most 16 MiB, minified ones (mean
 * line over 200 characters) skipped, walked in sorted order.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { seededRandom } from "../../test/support/random.ts";

/** One document: a function's code without its doc comment. */
export interface CodeDoc {
  /** Zero-padded rank in the corpus (document id order is corpus order). */
  id: string;
  /** `<root label>/<relative path>`. */
  path: string;
  name: string;
  line: number;
  text: string;
}

/** One labeled query. */
export interface CodeQuery {
  text: string;
  /** The target document's id. */
  target: string;
}

/** The set. */
export interface CodeSearchSet {
  docs: CodeDoc[];
  queries: CodeQuery[];
  /** What the build saw and dropped. */
  stats: {
    files: number;
    functions: number;
    duplicatesDropped: number;
    documented: number;
    queryCandidates: number;
  };
}

export interface CorpusRoot {
  dir: string;
  label: string;
}

/** The benchmark's set: these roots, this seed, this many queries (the fixture is drawn from it). */
export const RELEVANCE_SET = {
  seed: 20_261_125,
  queryCount: 1000,
  dimensions: 384,
  roots: [
    { dir: join(import.meta.dir, "../../node_modules"), label: "node_modules" },
    { dir: "/usr/lib/node_modules", label: "usr/lib/node_modules" },
  ],
} as const;

const EXTENSIONS = [".js", ".mjs", ".cjs", ".ts"];
const FILE_BYTES_MAX = 16 * 1024 * 1024;
const MEAN_LINE_CHARS_MAX = 200;
const CODE_LINES_MIN = 3;
const CODE_LINES_MAX = 200;
export const CODE_CHARS_MAX = 8_000;
const QUERY_WORDS_MIN = 3;
const QUERY_WORDS_MAX = 30;

function listSources(root: string, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(root, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined || stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) listSources(path, out);
    else if (
      stat.isFile() &&
      stat.size <= FILE_BYTES_MAX &&
      !name.endsWith(".d.ts") &&
      EXTENSIONS.some((e) => name.endsWith(e))
    ) {
      out.push(path);
    }
  }
}

/** A function found in a file, before de-duplication. */
interface Found {
  name: string;
  line: number;
  code: string;
  doc: string | null;
}

/** The last `/** … *\/` comment directly before `node` (its leading trivia), if any. */
function docComment(text: string, node: ts.Node): string | null {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges[ranges.length - 1];
  if (last === undefined || last.kind !== ts.SyntaxKind.MultiLineCommentTrivia) return null;
  const comment = text.slice(last.pos, last.end);
  return comment.startsWith("/**") && !comment.startsWith("/**/") ? comment : null;
}

function nameOf(node: ts.Node | undefined, file: ts.SourceFile): string | null {
  if (node === undefined) return null;
  if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) return node.text;
  if (ts.isStringLiteral(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) return node.getText(file);
  return null;
}

const hasBody = (node: ts.Node): boolean =>
  (ts.isFunctionExpression(node) || ts.isArrowFunction(node)) && ts.isBlock(node.body);

/**
 * A collectable function at `node`: the node whose leading trivia holds the doc comment
 * (`owner`), the name, and the node whose text is the code.
 */
function functionAt(
  node: ts.Node,
  file: ts.SourceFile,
): { owner: ts.Node; name: string; code: ts.Node } | null {
  if (ts.isFunctionDeclaration(node) && node.body !== undefined) {
    const name = nameOf(node.name, file);
    return name === null ? null : { owner: node, name, code: node };
  }
  if (ts.isMethodDeclaration(node) && node.body !== undefined) {
    const name = nameOf(node.name, file);
    return name === null ? null : { owner: node, name, code: node };
  }
  if (ts.isPropertyAssignment(node) && hasBody(node.initializer)) {
    const name = nameOf(node.name, file);
    return name === null ? null : { owner: node, name, code: node };
  }
  if (ts.isVariableStatement(node)) {
    const declarations = node.declarationList.declarations;
    const only = declarations.length === 1 ? declarations[0] : undefined;
    if (only?.initializer === undefined || !hasBody(only.initializer)) return null;
    const name = nameOf(only.name, file);
    return name === null ? null : { owner: node, name, code: node };
  }
  if (
    ts.isExpressionStatement(node) &&
    ts.isBinaryExpression(node.expression) &&
    node.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    hasBody(node.expression.right)
  ) {
    const name = nameOf(node.expression.left, file);
    return name === null ? null : { owner: node, name, code: node };
  }
  return null;
}

function functionsOf(path: string, text: string): Found[] {
  const kind = path.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const out: Found[] = [];
  const visit = (node: ts.Node): void => {
    const found = functionAt(node, file);
    if (found !== null) {
      const code = text.slice(found.code.getStart(file), found.code.end);
      const lines = code.split("\n").length;
      if (lines >= CODE_LINES_MIN && lines <= CODE_LINES_MAX && code.length <= CODE_CHARS_MAX) {
        const { line } = file.getLineAndCharacterOfPosition(found.code.getStart(file));
        out.push({ name: found.name, line: line + 1, code, doc: docComment(text, found.owner) });
        return; // nested functions are part of this document
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** The first sentence of a doc comment: tags cut, `{@link X}` → X, whitespace collapsed. */
export function firstSentence(comment: string): string {
  const body = comment
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, ""))
    .join("\n");
  const beforeTags = body.split(/(^|\n)\s*@/)[0] ?? "";
  const text = beforeTags
    .replace(/\{@(?:link|linkcode|linkplain)\s+([^}|\s]+)(?:\s*\|\s*([^}]*))?\}/g, (_, a, b) =>
      (b ?? a).trim(),
    )
    .replace(/<[^>]+>/g, " ")
    .replace(/`/g, "")
    .replace(/\s+/g, " ")
    .trim();
  // "e.g." and "i.e." do not end a sentence.
  const end = text.replace(/\b(e\.g|i\.e|etc|vs)\./gi, "$1_").search(/[.!?](\s|$)/);
  return (end < 0 ? text : text.slice(0, end + 1)).trim();
}

const wordCount = (text: string): number => text.match(/[\p{L}\p{N}_]+/gu)?.length ?? 0;

/** Builds the set from the roots (sorted walk), drawing `queryCount` queries with `seed`. */
export function buildCodeSearchSet(
  roots: readonly CorpusRoot[] = RELEVANCE_SET.roots,
  queryCount: number = RELEVANCE_SET.queryCount,
  seed: number = RELEVANCE_SET.seed,
): CodeSearchSet {
  const docs: CodeDoc[] = [];
  const sentenceOf = new Map<string, string>();
  const seenCode = new Set<string>();
  const seenDoc = new Set<string>();
  let files = 0;
  let functions = 0;
  let duplicatesDropped = 0;
  for (const root of roots) {
    const paths: string[] = [];
    listSources(root.dir, paths);
    for (const path of paths) {
      const text = readFileSync(path, "utf8");
      const lines = text.split("\n").length;
      if (text.length / lines > MEAN_LINE_CHARS_MAX) continue;
      files += 1;
      for (const f of functionsOf(path, text)) {
        functions += 1;
        const codeKey = f.code.replace(/\s+/g, "");
        const docKey = f.doc === null ? null : `${f.name}\u0000${f.doc.replace(/\s+/g, " ")}`;
        if (seenCode.has(codeKey) || (docKey !== null && seenDoc.has(docKey))) {
          duplicatesDropped += 1;
          continue;
        }
        seenCode.add(codeKey);
        if (docKey !== null) seenDoc.add(docKey);
        const id = String(docs.length).padStart(6, "0");
        docs.push({
          id,
          path: `${root.label}/${relative(root.dir, path)}`,
          name: f.name,
          line: f.line,
          text: f.code,
        });
        if (f.doc !== null) sentenceOf.set(id, firstSentence(f.doc));
      }
    }
  }
  const sentenceCount = new Map<string, number>();
  for (const s of sentenceOf.values()) {
    const key = s.toLowerCase();
    sentenceCount.set(key, (sentenceCount.get(key) ?? 0) + 1);
  }
  const candidates: CodeQuery[] = [];
  for (const doc of docs) {
    const sentence = sentenceOf.get(doc.id);
    if (sentence === undefined || /test/i.test(doc.name)) continue;
    const words = wordCount(sentence);
    if (words < QUERY_WORDS_MIN || words > QUERY_WORDS_MAX) continue;
    if (sentenceCount.get(sentence.toLowerCase()) !== 1) continue;
    candidates.push({ text: sentence, target: doc.id });
  }
  const random = seededRandom(seed);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j] as CodeQuery, candidates[i] as CodeQuery];
  }
  return {
    docs,
    queries: candidates.slice(0, queryCount),
    stats: {
      files,
      functions,
      duplicatesDropped,
      documented: sentenceOf.size,
      queryCandidates: candidates.length,
    },
  };
}
