import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  type Hash,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  verifyConsistency,
  verifyInclusion,
} from '../../../lambdas/core/ledger/merkle';

// Published RFC 6962 / RFC 9162 reference data from github.com/transparency-dev/merkle at commit
// 417fb0c314750d94e53942e9f92e79b6d35915db (the same data as google/certificate-transparency's merkle tests):
//   testonly/constants.go   LeafInputs, NodeHashes, RootHashes, CompactTrees, EmptyRootHash
//   cmd/proofgen/main.go    inclusionProofs, consistencyProofs (leaf indices there are 1-based; 0-based here)
//   testdata/inclusion/..., testdata/consistency/additional/...   probes quoted where used

const hex = (text: string): Hash => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (hash: Uint8Array): string => Buffer.from(hash).toString('hex');

const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];

/** NodeHashes()[level][index]: every perfect subtree of the 8-leaf tree. */
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** RootHashes(): root of the tree of the first `size` leaves, size 0..8. */
const ROOT_HASHES = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** CompactTrees(): the frontier's perfect-subtree roots per size, as [level, index] into NodeHashes(). */
const COMPACT_TREES: [number, number][][] = [
  [],
  [[0, 0]],
  [[1, 0]],
  [
    [1, 0],
    [0, 2],
  ],
  [[2, 0]],
  [
    [2, 0],
    [0, 4],
  ],
  [
    [2, 0],
    [1, 2],
  ],
  [
    [2, 0],
    [1, 2],
    [0, 6],
  ],
  [[3, 0]],
];

const INCLUSION_PROOFS: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const CONSISTENCY_PROOFS: { oldSize: number; newSize: number; proof: string[] }[] = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const root = (size: number): Hash => hex(ROOT_HASHES[size] ?? '');

/** Builds the reference tree through the frontier, keeping only what the frontier reports as complete. */
function referenceTree() {
  const frontier = new MerkleFrontier();
  const stored = new Map<string, Hash>();
  const frontiers = [frontier.clone()];
  for (const input of LEAF_INPUTS) {
    for (const node of frontier.append(leafHash(hex(input))))
      stored.set(`${node.level}/${node.index}`, node.hash);
    frontiers.push(frontier.clone());
  }
  const getNode = (level: number, index: number): Hash => {
    const hash = stored.get(`${level}/${index}`);
    if (hash === undefined) throw new Error(`node ${level}/${index} was never reported`);
    return hash;
  };
  return { frontiers, stored, getNode };
}

describe('RFC 6962 reference tree (transparency-dev/merkle testonly)', () => {
  const { frontiers, stored, getNode } = referenceTree();

  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(toHex(EMPTY_ROOT)).toBe(ROOT_HASHES[0]);
    expect(toHex(new MerkleFrontier().root())).toBe(ROOT_HASHES[0]);
  });

  it('hashes leaves with the 0x00 prefix', () => {
    expect(LEAF_INPUTS.map((input) => toHex(leafHash(hex(input))))).toEqual(NODE_HASHES[0]);
  });

  it('computes the published root for every size 0..8', () => {
    expect(frontiers.map((frontier) => toHex(frontier.root()))).toEqual(ROOT_HASHES);
  });

  it('reports exactly the published perfect subtrees as it completes them', () => {
    const reported = NODE_HASHES.map((level, l) => level.map((_, i) => toHex(getNode(l, i))));
    expect(reported).toEqual(NODE_HASHES);
    expect(stored.size).toBe(NODE_HASHES.flat().length);
  });

  it('keeps the published compact range for every size', () => {
    const expected = COMPACT_TREES.map((ids, size) => ({
      size,
      hashes: ids.map(([level, index]) =>
        Buffer.from(NODE_HASHES[level]?.[index] ?? '', 'hex').toString('base64'),
      ),
    }));
    expect(frontiers.map((frontier) => frontier.serialize())).toEqual(expected);
  });

  it.each(INCLUSION_PROOFS)(
    'builds and verifies the published inclusion proof for leaf $index of $size',
    ({ index, size, proof }) => {
      const leaf = leafHash(hex(LEAF_INPUTS[index] ?? ''));
      expect(inclusionProof(index, size, getNode).map(toHex)).toEqual(proof);
      expect(verifyInclusion(leaf, index, size, proof.map(hex), root(size))).toBe(true);
    },
  );

  it.each(CONSISTENCY_PROOFS)(
    'builds and verifies the published consistency proof $oldSize -> $newSize',
    ({ oldSize, newSize, proof }) => {
      expect(consistencyProof(oldSize, newSize, getNode).map(toHex)).toEqual(proof);
      expect(verifyConsistency(oldSize, newSize, root(oldSize), root(newSize), proof.map(hex))).toBe(true);
    },
  );

  it('rejects the published corrupted inclusion probes (testdata/inclusion/1)', () => {
    const { index, size, proof } = INCLUSION_PROOFS[1] ?? { index: 0, size: 0, proof: [] };
    const leaf = leafHash(hex(LEAF_INPUTS[index] ?? ''));
    const hashes = proof.map(hex);
    const [first = EMPTY_ROOT, ...rest] = hashes;
    expect(verifyInclusion(leaf, index + 1, size, hashes, root(size))).toBe(false); // leafIdx plus @1
    expect(verifyInclusion(leaf, index ^ 2, size, hashes, root(size))).toBe(false); // leafIdx XOR @2
    expect(verifyInclusion(leaf, index, size * 2, hashes, root(size))).toBe(false); // treeSize mul @2
    expect(verifyInclusion(leaf, index, size / 2, hashes, root(size))).toBe(false); // treeSize div @2
    expect(verifyInclusion(leaf, index, size, hashes.slice(0, -1), root(size))).toBe(false); // truncated proof
    expect(verifyInclusion(leaf, index, size, [...hashes, leaf], root(size))).toBe(false); // trailing garbage
    expect(verifyInclusion(leaf, index, size, [leaf, ...hashes], root(size))).toBe(false); // preceding garbage
    expect(verifyInclusion(leaf, index, size, [...rest, first], root(size))).toBe(false); // reordered
    expect(verifyInclusion(root(size), index, size, hashes, root(size))).toBe(false); // wrong leaf
  });

  it('accepts a single-leaf tree whose root is the leaf (testdata/inclusion/single-entry)', () => {
    const leaf = Buffer.from('DTrtAjFI/9KiWfvQzcf7PPl1ZYdg03dbgq9vkKrMLfw=', 'base64');
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 0, 1, [], new Uint8Array(0))).toBe(false); // "empty root"
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], leaf)).toBe(false); // "empty leaf"
    expect(verifyInclusion(leaf, 0, 0, [], EMPTY_ROOT)).toBe(false); // additional/0: nothing is in an empty tree
  });

  it('rejects the published degenerate consistency probes (testdata/consistency/additional)', () => {
    const empty = EMPTY_ROOT;
    const one = root(1);
    expect(verifyConsistency(0, 1, empty, empty, [empty])).toBe(false); // size1 zero is useless
    expect(verifyConsistency(0, 1, empty, one, [])).toBe(false); // size1 zero and size2 not zero
    expect(verifyConsistency(0, 0, empty, empty, [])).toBe(false); // sizes equal zero
    expect(verifyConsistency(1, 0, one, empty, [])).toBe(false); // size1 greater than size2
    expect(verifyConsistency(1, 1, one, one, [one])).toBe(false); // sizes match but proof not empty
    expect(verifyConsistency(1, 1, one, root(2), [])).toBe(false); // equal sizes but roots differ
    expect(verifyConsistency(1, 2, one, root(2), [])).toBe(false); // sizes differ and proof is empty
    expect(verifyConsistency(1, 1, one, one, [])).toBe(true); // sizes equal (one) and proof empty
  });

  it('rejects the published swapped-roots and truncated consistency probes (testdata/consistency/2)', () => {
    const { oldSize, newSize, proof } = CONSISTENCY_PROOFS[2] ?? { oldSize: 0, newSize: 0, proof: [] };
    const hashes = proof.map(hex);
    expect(verifyConsistency(oldSize, newSize, root(newSize), root(oldSize), hashes)).toBe(false);
    expect(verifyConsistency(oldSize, newSize, root(oldSize), root(newSize), hashes.slice(0, -1))).toBe(
      false,
    );
    expect(verifyConsistency(oldSize - 1, newSize, root(oldSize), root(newSize), hashes)).toBe(false);
    expect(verifyConsistency(oldSize + 1, newSize, root(oldSize), root(newSize), hashes)).toBe(false);
  });

  it('hashes entries larger than the scratch buffer the same way', () => {
    const entry = new Uint8Array(10_000).map((_, i) => i % 251);
    const expected = createHash('sha256').update(Uint8Array.of(0)).update(entry).digest('hex');
    expect(toHex(leafHash(entry))).toBe(expected);
    expect(toHex(leafHash(entry.subarray(0, 4095)))).toBe(
      createHash('sha256').update(Uint8Array.of(0)).update(entry.subarray(0, 4095)).digest('hex'),
    );
  });
});
