/**
 * Reading the audited host's files: logical paths (as the host names them) live under the
 * configured root prefix, and a file a process names may also be reached through that process's
 * own root (/proc/<pid>/root) when it runs in another mount namespace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class HostFs {
  constructor(
    readonly root: string,
    readonly procRoot: string,
  ) {}

  toLogical(path: string): string {
    const root = this.root;
    if (root !== '/' && path.startsWith(root) && (path.length === root.length || path.charCodeAt(root.length) === 47)) return path.slice(root.length) || '/';
    return path;
  }

  real(logical: string): string {
    return this.root === '/' ? logical : join(this.root, logical);
  }

  private candidates(logical: string, pid: number | undefined): string[] {
    const out = [this.real(logical)];
    if (pid !== undefined) out.push(join(this.procRoot, String(pid), 'root', logical));
    return out;
  }

  /** Reads a file a process names: under the root prefix, else through the process's own root. */
  read(logical: string, pid?: number): { text?: string; error?: string; realPath?: string } {
    let error = 'missing';
    for (const c of this.candidates(logical, pid)) {
      try {
        return { text: readFileSync(c, 'utf8'), realPath: c };
      } catch (err) {
        error = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      }
    }
    return { error };
  }

  list(logical: string, pid?: number): string[] | undefined {
    for (const c of this.candidates(logical, pid)) {
      try {
        return readdirSync(c);
      } catch {
        // next candidate
      }
    }
    return undefined;
  }
}
