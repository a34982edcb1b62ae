// Compares `dsv4 tokenize` / `dsv4 detokenize` with @huggingface/tokenizers on a corpus.
// Usage: node compare.mjs DSV4_CLI TOKENIZER_DIR CORPUS_JSON
import { Tokenizer } from "@huggingface/tokenizers";
import { spawnSync } from "child_process";
import fs from "fs";

const [cli, dir, corpusPath] = process.argv.slice(2);
const corpus = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
if (!Array.isArray(corpus) || corpus.length < 200) {
  console.log(`FAIL: ${corpusPath} must hold at least 200 texts`);
  process.exit(1);
}
const tokenizerFile = `${dir}/tokenizer.json`;
const reference = new Tokenizer(
  JSON.parse(fs.readFileSync(tokenizerFile, "utf8")),
  JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8")),
);
const want = corpus.map((t) => reference.encode(t, { add_special_tokens: false }).ids);

function runCli(args, lines) {
  const t0 = Date.now();
  const r = spawnSync(cli, args, { input: lines.join("\n") + "\n", maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    console.log(`FAIL: ${cli} ${args.join(" ")} exited with ${r.status}: ${r.stderr}`);
    process.exit(1);
  }
  const out = r.stdout.toString("utf8").split("\n");
  out.pop();  // after the last newline
  if (out.length !== lines.length) {
    console.log(`FAIL: ${args[0]} printed ${out.length} lines for ${lines.length} inputs`);
    process.exit(1);
  }
  return { out, ms: Date.now() - t0 };
}

const enc = runCli(["tokenize", "--tokenizer", tokenizerFile, "--json-lines"], corpus.map((t) => JSON.stringify(t)));
let mismatches = 0, tokens = 0;
corpus.forEach((text, i) => {
  const got = JSON.parse(enc.out[i]);
  tokens += want[i].length;
  if (JSON.stringify(got) !== JSON.stringify(want[i])) {
    if (++mismatches <= 20)
      console.log(`MISMATCH text ${i} ${JSON.stringify(text)}\n  reference ${JSON.stringify(want[i])}\n  dsv4      ${JSON.stringify(got)}`);
  }
});

// Byte-level BPE is lossless: decoding the reference ids gives the text back.
const dec = runCli(["detokenize", "--tokenizer", tokenizerFile, "--json-lines"], want.map((ids) => JSON.stringify(ids)));
let decodeMismatches = 0;
corpus.forEach((text, i) => {
  const got = JSON.parse(dec.out[i]);
  if (got !== text && ++decodeMismatches <= 20)
    console.log(`DECODE MISMATCH text ${i}: ${JSON.stringify(text)} came back as ${JSON.stringify(got)}`);
});

console.log(`tokenizer conformance: ${corpus.length - mismatches}/${corpus.length} texts encode identically ` +
            `(${tokens} reference tokens), ${corpus.length - decodeMismatches}/${corpus.length} decode back; ` +
            `dsv4 tokenize ${enc.ms} ms, detokenize ${dec.ms} ms (each including the tokenizer load)`);
process.exit(mismatches || decodeMismatches ? 1 : 0);
