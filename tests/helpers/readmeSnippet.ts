import { readFileSync } from 'node:fs';

/**
 * The code block README.md shows for `path`: the fenced block right after the line
 * `<!-- file: path -->`, so a test can check it is that file, as it is.
 */
export function readmeSnippet(path: string): string | undefined {
  const readme = readFileSync('README.md', 'utf8');
  const marker = `<!-- file: ${path} -->\n`;
  const at = readme.indexOf(marker);
  if (at < 0) return undefined;
  const block = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(readme.slice(at + marker.length));
  return block?.[1];
}
