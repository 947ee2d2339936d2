// The module images `stats` counts (log/tally.ts): per module name, each
// distinct image its loads carried, a load counted once whether its syscall,
// its module_load or both carry the image; and the merge of another
// thread's count of the later files.

interface ImageSeen {
  sha256: string;
  size: number;
  loads: number; // load calls, failed ones too (a syscall and its module_load count once)
  first: bigint;
  last: bigint;
}

/** A Tally's images as another thread hands them over. */
export interface ImagesHalf {
  byModule: [string, ImageSeen[]][];
  calls: string;
}

/** A load's image as counted. */
export interface ImageAdd {
  sha256: string;
  size: number;
  module: string | undefined;
  /** hostProcessId:callId, which a syscall and its module_load share. */
  call?: string;
  t: bigint;
}

/** Per module name, each distinct image its loads carried. */
export class Images {
  private byModule = new Map<string, Map<string, ImageSeen>>();
  private calls = new Set<string>();

  add(image: ImageAdd | undefined) {
    if (!image) return;
    const { sha256, size, module, call, t } = image;
    const name = module ?? "(unknown)";
    // A syscall and the module_load it caused share a callId: one load.
    if (call && this.calls.has(call)) return;
    if (call) this.calls.add(call);
    const images = this.byModule.get(name) ?? new Map<string, ImageSeen>();
    this.byModule.set(name, images);
    const seen = images.get(sha256) ?? { sha256, size, loads: 0, first: t, last: t };
    images.set(sha256, seen);
    seen.loads++;
    if (t < seen.first) seen.first = t;
    if (t > seen.last) seen.last = t;
  }

  /** What merge() takes: the images, and the calls counted (one text:
   * digits and colons, cloned whole between threads). */
  half(): ImagesHalf {
    return { byModule: [...this.byModule].map(([name, images]) => [name, [...images.values()]]), calls: [...this.calls].join("\n") };
  }

  /** Another thread's images of the files after this one's, as if these had
   * been counted here; false, and nothing merged, when a load there was
   * counted here already (its call in both halves: one file given twice,
   * a set cut between a load's syscall and its module_load). */
  merge(later: ImagesHalf): boolean {
    const calls = later.calls ? later.calls.split("\n") : [];
    if (calls.some((c) => this.calls.has(c))) return false;
    for (const c of calls) this.calls.add(c);
    for (const [name, images] of later.byModule) {
      const mine = this.byModule.get(name) ?? new Map<string, ImageSeen>();
      this.byModule.set(name, mine);
      for (const image of images) {
        const seen = mine.get(image.sha256);
        if (!seen) mine.set(image.sha256, image);
        else {
          seen.loads += image.loads;
          if (image.first < seen.first) seen.first = image.first;
          if (image.last > seen.last) seen.last = image.last;
        }
      }
    }
    return true;
  }

  summary(iso: (ns: bigint) => string | null) {
    return Object.fromEntries(
      [...this.byModule].sort(([a], [b]) => a.localeCompare(b)).map(([name, images]) => [
        name,
        [...images.values()].map((i) => ({ sha256: i.sha256, size: i.size, loads: i.loads, first: iso(i.first), last: iso(i.last) })),
      ]),
    );
  }
}
