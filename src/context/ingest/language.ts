/** Language of a file from its name, carried as `metadata.language` of its chunks. */

const BY_EXTENSION: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  py: "python",
  rb: "ruby",
  go: "go",
  rs: "rust",
  java: "java",
  kt: "kotlin",
  swift: "swift",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  hpp: "cpp",
  cs: "csharp",
  php: "php",
  scala: "scala",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  ps1: "powershell",
  sql: "sql",
  lua: "lua",
  md: "markdown",
  mdx: "markdown",
  rst: "rst",
  txt: "text",
  json: "json",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  xml: "xml",
  html: "html",
  css: "css",
  scss: "scss",
  vue: "vue",
  svelte: "svelte",
  zig: "zig",
  ex: "elixir",
  exs: "elixir",
  hs: "haskell",
};

const BY_NAME: Record<string, string> = {
  dockerfile: "dockerfile",
  makefile: "make",
};

/** The language of `path`, or `text` when unknown. */
export function languageOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const byName = BY_NAME[name];
  if (byName !== undefined) return byName;
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "text" : (BY_EXTENSION[name.slice(dot + 1)] ?? "text");
}
