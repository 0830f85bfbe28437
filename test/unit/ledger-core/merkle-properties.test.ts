import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  type CompletedNode,
  consistencyProof,
  consistencyProofAsync,
  consistencyProofNodeIds,
  EMPTY_ROOT,
  type Hash,
  InvalidHashError,
  inclusionProof,
  inclusionProofAsync,
  inclusionProofNodeIds,
  leafHash,
  MalformedFrontierError,
  MerkleFrontier,
  MissingTreeNodeError,
  type NodeId,
  nodeHash,
  ProofRangeError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../lambdas/core/ledger/merkle';

const MAX_SIZE = 70;

const sha256 = (...parts: Uint8Array[]): Hash => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** RFC 9162 §2.1.1 MTH, written straight from the definition as an independent reference. */
function referenceRoot(leaves: Hash[]): Hash {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] ?? sha256();
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/**
 * Which side each proof element sits on, leaf first, per RFC 9162's PATH and SUBPROOF recursions. RFC 9162 proofs
 * bind the tree size only through the (signed) root: a verifier given the wrong size reaches the same root exactly
 * when the size leaves this shape unchanged, and must fail otherwise.
 */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function inclusionShape(index: number, size: number): string {
  let [start, end, shape] = [0, size, ''];
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) [end, shape] = [start + k, `R${shape}`];
    else [start, shape] = [start + k, `L${shape}`];
  }
  return shape;
}
function consistencyShape(oldSize: number, newSize: number): string {
  let [start, end, shape, oldRootKnown] = [0, newSize, '', true];
  while (oldSize !== end) {
    const k = splitPoint(end - start);
    if (oldSize - start <= k) [end, shape] = [start + k, `R${shape}`];
    else [start, shape, oldRootKnown] = [start + k, `L${shape}`, false];
  }
  return oldRootKnown ? shape : `*${shape}`;
}

const equalHashes = (a: Hash | undefined, b: Hash): boolean => a !== undefined && Buffer.compare(a, b) === 0;

function flipBit(hash: Hash, bit: number): Hash {
  const copy = new Uint8Array(hash);
  copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return copy;
}

function buildLog(size: number) {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const frontier = new MerkleFrontier();
  const stored = new Map<string, Hash>();
  const roots = [frontier.root()];
  const reports: CompletedNode[][] = [];
  for (const leaf of leaves) {
    const completed = frontier.append(leaf);
    reports.push(completed);
    for (const node of completed) stored.set(`${node.level}/${node.index}`, node.hash);
    roots.push(frontier.root());
  }
  const getNode = (level: number, index: number): Hash => {
    const hash = stored.get(`${level}/${index}`);
    if (hash === undefined) throw new Error(`node ${level}/${index} is not a reported perfect subtree`);
    return hash;
  };
  const rootAt = (n: number): Hash => roots[n] ?? EMPTY_ROOT;
  return { leaves, frontier, stored, reports, rootAt, getNode };
}

describe('MerkleFrontier', () => {
  const log = buildLog(MAX_SIZE);

  it('matches the RFC 9162 MTH definition at every size 0..70', () => {
    for (let n = 0; n <= MAX_SIZE; n++) {
      expect(log.rootAt(n)).toEqual(referenceRoot(log.leaves.slice(0, n)));
    }
  });

  it('reports the leaf and every perfect subtree it completes, and only those', () => {
    log.reports.forEach((completed, i) => {
      expect(completed[0]).toEqual({ level: 0, index: i, hash: log.leaves[i] });
      // Appending leaf i completes one subtree per trailing one bit of i.
      let trailingOnes = 0;
      while ((i >> trailingOnes) & 1) trailingOnes += 1;
      expect(completed.map(({ level, index }) => ({ level, index }))).toEqual(
        Array.from({ length: trailingOnes + 1 }, (_, level) => ({ level, index: i >> level })),
      );
      for (const { level, index, hash } of completed) {
        const width = 2 ** level;
        expect(hash).toEqual(referenceRoot(log.leaves.slice(index * width, (index + 1) * width)));
      }
    });
  });

  it('does not change when its root is read, and clones independently', () => {
    const frontier = buildLog(5).frontier;
    const before = frontier.serialize();
    expect(frontier.root()).toEqual(frontier.root());
    expect(frontier.serialize()).toEqual(before);
    const copy = frontier.clone();
    copy.append(leafHash(Uint8Array.of(9)));
    expect(frontier.serialize()).toEqual(before);
    expect(copy.size).toBe(6);
  });

  it('resumes from its serialized form exactly where it stopped', () => {
    const whole = buildLog(23);
    const resumed = MerkleFrontier.deserialize(
      JSON.parse(JSON.stringify(buildLog(17).frontier.serialize())) as ReturnType<
        MerkleFrontier['serialize']
      >,
    );
    for (const leaf of whole.leaves.slice(17)) resumed.append(leaf);
    expect(resumed.size).toBe(23);
    expect(resumed.root()).toEqual(whole.frontier.root());
  });

  it.each([
    { size: -1, hashes: [] },
    { size: 1.5, hashes: [] },
    { size: 3, hashes: [Buffer.alloc(32).toString('base64')] },
    { size: 1, hashes: [Buffer.alloc(31).toString('base64')] },
    { size: 1, hashes: ['not base64!'] },
  ])('rejects a malformed serialized frontier %j', (serialized) => {
    expect(() => MerkleFrontier.deserialize(serialized)).toThrow(MalformedFrontierError);
  });

  it('rejects leaf hashes that are not 32 bytes', () => {
    expect(() => new MerkleFrontier().append(new Uint8Array(31))).toThrow(InvalidHashError);
    expect(() => nodeHash(new Uint8Array(32), new Uint8Array(33))).toThrow(InvalidHashError);
  });
});

describe('inclusion proofs from reported nodes, sizes 1..70', () => {
  const log = buildLog(MAX_SIZE);

  // Failures are collected and asserted once: tens of thousands of expect() calls would dominate the run time.
  it('verify for every leaf of every size, and fail for any flipped bit, wrong leaf or wrong index', () => {
    const failures: string[] = [];
    for (let n = 1; n <= MAX_SIZE; n++) {
      const root = log.rootAt(n);
      for (let index = 0; index < n; index++) {
        const leaf = log.leaves[index] ?? EMPTY_ROOT;
        const proof = inclusionProof(index, n, log.getNode);
        const at = `leaf ${index} of ${n}`;
        if (!verifyInclusion(leaf, index, n, proof, root)) failures.push(`${at}: valid proof rejected`);
        if (!equalHashes(rootFromInclusionProof(leaf, index, n, proof), root))
          failures.push(`${at}: wrong root`);
        proof.forEach((_, position) => {
          const bit = (index * 7 + position * 31 + n) % 256;
          const tampered = proof.map((hash, p) => (p === position ? flipBit(hash, bit) : hash));
          if (verifyInclusion(leaf, index, n, tampered, root))
            failures.push(`${at}: bit ${bit} of #${position}`);
        });
        if (verifyInclusion(flipBit(leaf, index % 256), index, n, proof, root))
          failures.push(`${at}: wrong leaf`);
        for (const other of new Set([0, index - 1, index + 1, index ^ 1, n - 1 - index, n - 1])) {
          if (other !== index && other >= 0 && other < n && verifyInclusion(leaf, other, n, proof, root)) {
            failures.push(`${at}: accepted as leaf ${other}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('fail with a wrong tree size unless that size leaves the proof shape unchanged', () => {
    const failures: string[] = [];
    for (let n = 1; n <= MAX_SIZE; n++) {
      for (let index = 0; index < n; index++) {
        const proof = inclusionProof(index, n, log.getNode);
        const leaf = log.leaves[index] ?? EMPTY_ROOT;
        for (const wrong of [index, index + 1, n - 1, n + 1, n + 2, 2 * n, 2 * n + 1]) {
          if (wrong === n) continue;
          const expected = wrong > index && inclusionShape(index, wrong) === inclusionShape(index, n);
          if (verifyInclusion(leaf, index, wrong, proof, log.rootAt(n)) !== expected) {
            failures.push(`leaf ${index} of ${n} checked as size ${wrong}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('flipping every one of the 256 bits of every element breaks the proof', () => {
    const [index, n] = [37, 70];
    const proof = inclusionProof(index, n, log.getNode);
    const leaf = log.leaves[index] ?? EMPTY_ROOT;
    const accepted: string[] = [];
    for (let position = 0; position < proof.length; position++) {
      for (let bit = 0; bit < 256; bit++) {
        const tampered = proof.map((hash, p) => (p === position ? flipBit(hash, bit) : hash));
        if (verifyInclusion(leaf, index, n, tampered, log.rootAt(n)))
          accepted.push(`bit ${bit} of #${position}`);
      }
    }
    expect(proof.length).toBe(7);
    expect(accepted).toEqual([]);
  });

  it('has at most ceil(log2 n) elements', () => {
    for (let n = 1; n <= MAX_SIZE; n++) {
      const longest = Math.max(
        ...Array.from({ length: n }, (_, i) => inclusionProof(i, n, log.getNode).length),
      );
      expect(longest).toBe(Math.ceil(Math.log2(n)));
    }
  });
});

describe('consistency proofs from reported nodes, sizes 1..70', () => {
  const log = buildLog(MAX_SIZE);

  it('verify for every old/new pair, and fail for any flipped bit or wrong root', () => {
    const failures: string[] = [];
    for (let newSize = 1; newSize <= MAX_SIZE; newSize++) {
      for (let oldSize = 1; oldSize <= newSize; oldSize++) {
        const [oldRoot, newRoot] = [log.rootAt(oldSize), log.rootAt(newSize)];
        const proof = consistencyProof(oldSize, newSize, log.getNode);
        const at = `${oldSize} -> ${newSize}`;
        if (!verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)) failures.push(`${at}: rejected`);
        proof.forEach((_, position) => {
          const bit = (oldSize * 13 + position * 29 + newSize) % 256;
          const tampered = proof.map((hash, p) => (p === position ? flipBit(hash, bit) : hash));
          if (verifyConsistency(oldSize, newSize, oldRoot, newRoot, tampered)) {
            failures.push(`${at}: bit ${bit} of #${position}`);
          }
        });
        if (verifyConsistency(oldSize, newSize, flipBit(oldRoot, 0), newRoot, proof))
          failures.push(`${at}: old root`);
        if (verifyConsistency(oldSize, newSize, oldRoot, flipBit(newRoot, 255), proof)) {
          failures.push(`${at}: new root`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('fail with a wrong old size, and with a wrong new size unless it leaves the proof shape unchanged', () => {
    const failures: string[] = [];
    for (let newSize = 1; newSize <= MAX_SIZE; newSize++) {
      for (let oldSize = 1; oldSize <= newSize; oldSize++) {
        const [oldRoot, newRoot] = [log.rootAt(oldSize), log.rootAt(newSize)];
        const proof = consistencyProof(oldSize, newSize, log.getNode);
        for (const wrongOld of [0, oldSize - 1, oldSize + 1, 2 * oldSize, newSize, newSize + 1]) {
          if (wrongOld !== oldSize && verifyConsistency(wrongOld, newSize, oldRoot, newRoot, proof)) {
            failures.push(`${oldSize} -> ${newSize} accepted from ${wrongOld}`);
          }
        }
        for (const wrongNew of [
          oldSize,
          newSize - 1,
          newSize + 1,
          newSize + 2,
          2 * newSize,
          2 * newSize + 1,
        ]) {
          if (wrongNew === newSize) continue;
          const expected =
            wrongNew >= oldSize && consistencyShape(oldSize, wrongNew) === consistencyShape(oldSize, newSize);
          if (verifyConsistency(oldSize, wrongNew, oldRoot, newRoot, proof) !== expected) {
            failures.push(`${oldSize} -> ${newSize} checked as -> ${wrongNew}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('batched proof assembly for storage', () => {
  const log = buildLog(MAX_SIZE);
  const fetchFrom = (ids: NodeId[]) =>
    Promise.resolve(ids.map(({ level, index }) => log.getNode(level, index)));

  it('fetches exactly the listed perfect subtrees in one call and matches the sync proof', async () => {
    for (const [index, n] of [
      [0, 70],
      [69, 70],
      [37, 70],
      [12, 13],
    ] as const) {
      const fetchNodes = vi.fn(fetchFrom);
      const proof = await inclusionProofAsync(index, n, fetchNodes);
      expect(fetchNodes).toHaveBeenCalledTimes(1);
      expect(fetchNodes).toHaveBeenCalledWith(inclusionProofNodeIds(index, n));
      expect(proof).toEqual(inclusionProof(index, n, log.getNode));
    }
    for (const [oldSize, newSize] of [
      [1, 70],
      [37, 70],
      [64, 70],
      [5, 7],
    ] as const) {
      const fetchNodes = vi.fn(fetchFrom);
      const proof = await consistencyProofAsync(oldSize, newSize, fetchNodes);
      expect(fetchNodes).toHaveBeenCalledTimes(1);
      expect(fetchNodes).toHaveBeenCalledWith(consistencyProofNodeIds(oldSize, newSize));
      expect(proof).toEqual(consistencyProof(oldSize, newSize, log.getNode));
    }
  });

  it('asks only for perfect subtrees that exist in the tree of that size', () => {
    const outside: string[] = [];
    for (let n = 1; n <= MAX_SIZE; n++) {
      for (let m = 1; m <= n; m++) {
        const ids = [...inclusionProofNodeIds(m - 1, n), ...consistencyProofNodeIds(m, n)];
        for (const { level, index } of ids) {
          if (!log.stored.has(`${level}/${index}`) || (index + 1) * 2 ** level > n)
            outside.push(`${level}/${index} @${n}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('needs no storage for proofs that are empty', async () => {
    const fetchNodes = vi.fn(fetchFrom);
    expect(await inclusionProofAsync(0, 1, fetchNodes)).toEqual([]);
    expect(await consistencyProofAsync(9, 9, fetchNodes)).toEqual([]);
    expect(fetchNodes).not.toHaveBeenCalled();
  });

  it('refuses a storage answer with missing or malformed nodes', async () => {
    await expect(inclusionProofAsync(3, 70, async (ids) => (await fetchFrom(ids)).slice(1))).rejects.toThrow(
      MissingTreeNodeError,
    );
    await expect(
      consistencyProofAsync(3, 70, async (ids) => ids.map(() => new Uint8Array(16))),
    ).rejects.toThrow(InvalidHashError);
  });

  it.each([
    () => inclusionProofNodeIds(5, 5),
    () => inclusionProofNodeIds(-1, 5),
    () => inclusionProofNodeIds(0, 0),
    () => inclusionProofNodeIds(0.5, 5),
    () => consistencyProofNodeIds(0, 5),
    () => consistencyProofNodeIds(6, 5),
    () => consistencyProofNodeIds(1, Number.MAX_SAFE_INTEGER + 2),
  ])('refuses proofs the tree cannot have (%#)', (request) => {
    expect(request).toThrow(ProofRangeError);
  });

  it('rejects an out-of-range async request as a rejected promise', async () => {
    await expect(inclusionProofAsync(7, 7, fetchFrom)).rejects.toThrow(ProofRangeError);
  });
});

describe('trees beyond 32-bit sizes', () => {
  // A tree whose leaves are all equal has one hash per level, so any size can be built without 2^45 appends.
  const levelHashes = [leafHash(Uint8Array.of(42))];
  for (let level = 1; level < 53; level++) {
    const below = levelHashes[level - 1] ?? EMPTY_ROOT;
    levelHashes.push(nodeHash(below, below));
  }
  const getNode = (level: number): Hash => levelHashes[level] ?? EMPTY_ROOT;
  const frontierOf = (size: number) =>
    MerkleFrontier.deserialize({
      size,
      hashes: [...size.toString(2)]
        .map((bit, i, bits) => (bit === '1' ? bits.length - 1 - i : -1))
        .filter((level) => level >= 0)
        .map((level) => Buffer.from(getNode(level)).toString('base64')),
    });

  it('proves inclusion and consistency at sizes around 2^45', () => {
    const [oldSize, newSize] = [2 ** 44 + 12_345, 2 ** 45 + 2 ** 33 + 7];
    const [oldRoot, newRoot] = [frontierOf(oldSize).root(), frontierOf(newSize).root()];
    for (const index of [0, 2 ** 32, 2 ** 45 + 2 ** 33 + 6, 2 ** 44 + 12_344]) {
      const proof = inclusionProof(index, newSize, getNode);
      expect(verifyInclusion(getNode(0), index, newSize, proof, newRoot)).toBe(true);
      expect(verifyInclusion(getNode(0), index, newSize, proof, oldRoot)).toBe(false);
    }
    const proof = consistencyProof(oldSize, newSize, getNode);
    expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
    expect(verifyConsistency(oldSize, newSize, newRoot, oldRoot, proof)).toBe(false);
  });

  it('needs 20 hashes (640 bytes) for an inclusion proof at n = 1,000,000, fetched in one batch of <= 25 nodes', () => {
    // 1,000,000 = 2^19 + 2^18 + 2^17 + 2^16 + 2^14 + 2^9 + 2^6. Leaf 0: 19 levels inside [0, 2^19) plus the ragged
    // right half, folded from its 6 perfect subtrees. Leaf 2^19: the left half, the ragged [786432, 10^6) and 18
    // levels. The last leaf: 6 levels in the final 64-leaf subtree plus the 6 perfect subtrees to its left.
    const n = 1_000_000;
    const proofLengths = [0, 524_287, 524_288, 999_999].map(
      (index) => inclusionProof(index, n, getNode).length,
    );
    expect(proofLengths).toEqual([20, 20, 20, 12]);
    const batchSizes = [0, 524_287, 524_288, 999_999].map((index) => inclusionProofNodeIds(index, n).length);
    expect(Math.max(...batchSizes)).toBe(25);
  });

  it('appends past 2^32 leaves from a resumed frontier', () => {
    const frontier = frontierOf(2 ** 32 - 1);
    const completed = frontier.append(getNode(0));
    expect(completed.at(-1)).toEqual({ level: 32, index: 0, hash: getNode(32) });
    expect(frontier.serialize()).toEqual({
      size: 2 ** 32,
      hashes: [Buffer.from(getNode(32)).toString('base64')],
    });
  });
});
