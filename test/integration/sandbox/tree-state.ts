/**
 * The whole state of a tree as the checkpoint tests compare it: every entry's path, type,
 * permission bits, file bytes (as SHA-256) and link target, sorted by path.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** One line per entry, e.g. `f 0644 src/a.ts <sha256>`. */
export function treeState(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, path);
      const info = lstatSync(abs);
      const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
      if (info.isDirectory()) {
        out.push(`d ${mode} ${path}`);
        walk(path);
      } else if (info.isSymbolicLink()) out.push(`l ${path} -> ${readlinkSync(abs)}`);
      else if (info.isFile()) {
        const sha = createHash("sha256").update(readFileSync(abs)).digest("hex");
        out.push(`f ${mode} ${path} ${sha}`);
      } else out.push(`? ${path}`);
    }
  };
  walk("");
  return out;
}
