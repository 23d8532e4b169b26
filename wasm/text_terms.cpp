// The term dictionary of the text index and the code tokenizer's ASCII path, compiled to
// WebAssembly (docs/adr/0023-compiled-term-table.md).
//
// A table maps term bytes (UTF-8) to dense ids: ids of released terms are reused, most recently
// released first, as src/search/text/term-dictionary.ts documents. `vt_count_code_ascii`
// tokenizes an ASCII text exactly as src/search/text/tokenize-code.ts does (tokens in order,
// then the splits' aliases, each alias prefixed with the alias mark U+0000), interns every term
// and counts them: the per-document work the JS index spent most of its insert time on.
//
// Many tables share one module instance (one per text index), named by a handle. Everything is
// plain C memory management over wasi-libc's malloc: no exceptions, no I/O.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

namespace {

constexpr uint32_t kDead = 0xffffffffu;
constexpr uint32_t kSlotsMin = 1024;
constexpr uint32_t kBytesMin = 4096;
constexpr uint32_t kGarbageBytesMin = 1u << 20;

// Status codes of vt_count_code_ascii.
constexpr int32_t kCountOk = 0;
constexpr int32_t kCountNotAscii = 1;
constexpr int32_t kCountTooManyTokens = 2;
constexpr int32_t kCountOutOfMemory = 3;

struct U32List {
  uint32_t* items = nullptr;
  uint32_t size = 0;
  uint32_t capacity = 0;
};

bool reserve(U32List& list, uint32_t needed) {
  if (needed <= list.capacity) return true;
  uint32_t capacity = list.capacity < 64 ? 64 : list.capacity;
  while (capacity < needed) capacity *= 2;
  auto* items = static_cast<uint32_t*>(realloc(list.items, capacity * sizeof(uint32_t)));
  if (items == nullptr) return false;
  list.items = items;
  list.capacity = capacity;
  return true;
}

bool push(U32List& list, uint32_t value) {
  if (!reserve(list, list.size + 1)) return false;
  list.items[list.size++] = value;
  return true;
}

// Grows a zero-filled u32 array indexed by id to hold `needed` entries.
bool growZeroed(U32List& list, uint32_t needed) {
  if (needed <= list.size) return true;
  if (!reserve(list, needed)) return false;
  memset(list.items + list.size, 0, (needed - list.size) * sizeof(uint32_t));
  list.size = needed;
  return true;
}

uint32_t hashBytes(const uint8_t* bytes, uint32_t length) {
  // FNV-1a, then a murmur3 finalizer so that linear probing sees well-spread low bits.
  uint32_t hash = 2166136261u;
  for (uint32_t i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 16777619u;
  hash ^= hash >> 16;
  hash *= 0x85ebca6bu;
  hash ^= hash >> 13;
  hash *= 0xc2b2ae35u;
  hash ^= hash >> 16;
  return hash;
}

struct Table {
  // Term bytes, appended; released terms leave holes until compaction.
  uint8_t* bytes = nullptr;
  uint32_t bytesUsed = 0;
  uint32_t bytesCapacity = 0;
  uint32_t garbageBytes = 0;
  // Per id: offset (kDead when released), length, hash.
  U32List offsets;
  U32List lengths;
  U32List hashes;
  U32List freeIds;
  uint32_t liveCount = 0;
  uint32_t releaseCount = 0;
  // Open addressing with linear probing: id + 1 per slot, 0 when empty.
  uint32_t* slots = nullptr;
  uint32_t slotMask = 0;
  // Counting scratch: occurrences per id (zero between documents), distinct ids in order.
  U32List counts;
  U32List distinct;
  // Ids created by the current count, for the caller (and for rollback on failure).
  U32List created;
  // The current document's aliases, as [start, length] pairs into `aliasBytes`.
  U32List aliasRanges;
  uint8_t* aliasBytes = nullptr;
  uint32_t aliasBytesUsed = 0;
  uint32_t aliasBytesCapacity = 0;
  uint32_t tokenCount = 0;
};

bool initSlots(Table& table, uint32_t slotCount) {
  auto* slots = static_cast<uint32_t*>(calloc(slotCount, sizeof(uint32_t)));
  if (slots == nullptr) return false;
  free(table.slots);
  table.slots = slots;
  table.slotMask = slotCount - 1;
  return true;
}

bool rehash(Table& table, uint32_t slotCount) {
  if (!initSlots(table, slotCount)) return false;
  for (uint32_t id = 0; id < table.offsets.size; id++) {
    if (table.offsets.items[id] == kDead) continue;
    uint32_t slot = table.hashes.items[id] & table.slotMask;
    while (table.slots[slot] != 0) slot = (slot + 1) & table.slotMask;
    table.slots[slot] = id + 1;
  }
  return true;
}

// The slot holding `bytes`, or the empty slot where it belongs.
uint32_t findSlot(const Table& table, const uint8_t* bytes, uint32_t length, uint32_t hash) {
  uint32_t slot = hash & table.slotMask;
  for (;;) {
    uint32_t entry = table.slots[slot];
    if (entry == 0) return slot;
    uint32_t id = entry - 1;
    if (table.hashes.items[id] == hash && table.lengths.items[id] == length &&
        memcmp(table.bytes + table.offsets.items[id], bytes, length) == 0) {
      return slot;
    }
    slot = (slot + 1) & table.slotMask;
  }
}

// Packs the live terms' bytes to the front of a fresh buffer (ids keep their values).
bool compactBytes(Table& table) {
  uint32_t live = table.bytesUsed - table.garbageBytes;
  uint32_t capacity = live * 2 < kBytesMin ? kBytesMin : live * 2;
  auto* packed = static_cast<uint8_t*>(malloc(capacity));
  if (packed == nullptr) return false;
  uint32_t used = 0;
  for (uint32_t id = 0; id < table.offsets.size; id++) {
    uint32_t offset = table.offsets.items[id];
    if (offset == kDead) continue;
    uint32_t length = table.lengths.items[id];
    memcpy(packed + used, table.bytes + offset, length);
    table.offsets.items[id] = used;
    used += length;
  }
  free(table.bytes);
  table.bytes = packed;
  table.bytesUsed = used;
  table.bytesCapacity = capacity;
  table.garbageBytes = 0;
  return true;
}

bool reserveBytes(Table& table, uint32_t length) {
  if (table.bytesUsed + length <= table.bytesCapacity) return true;
  if (table.garbageBytes > kGarbageBytesMin && table.garbageBytes * 2 > table.bytesUsed) {
    if (!compactBytes(table)) return false;
    if (table.bytesUsed + length <= table.bytesCapacity) return true;
  }
  uint64_t capacity = table.bytesCapacity < kBytesMin ? kBytesMin : table.bytesCapacity;
  while (capacity < static_cast<uint64_t>(table.bytesUsed) + length) capacity *= 2;
  if (capacity > 0xffffffffu) return false;
  auto* bytes = static_cast<uint8_t*>(realloc(table.bytes, static_cast<uint32_t>(capacity)));
  if (bytes == nullptr) return false;
  table.bytes = bytes;
  table.bytesCapacity = static_cast<uint32_t>(capacity);
  return true;
}

// The id of `bytes`, creating it when new (then recorded in `created` when `track`).
// Returns -1 when memory runs out.
int64_t intern(Table& table, const uint8_t* bytes, uint32_t length, bool track) {
  uint32_t hash = hashBytes(bytes, length);
  uint32_t slot = findSlot(table, bytes, length, hash);
  if (table.slots[slot] != 0) return table.slots[slot] - 1;
  if ((table.liveCount + 1) * 2 > table.slotMask + 1) {
    if (!rehash(table, (table.slotMask + 1) * 2)) return -1;
    slot = findSlot(table, bytes, length, hash);
  }
  if (!reserveBytes(table, length)) return -1;
  uint32_t id;
  if (table.freeIds.size > 0) {
    id = table.freeIds.items[table.freeIds.size - 1];
  } else {
    id = table.offsets.size;
    if (!reserve(table.offsets, id + 1) || !reserve(table.lengths, id + 1) ||
        !reserve(table.hashes, id + 1)) {
      return -1;
    }
  }
  if (track && !push(table.created, id)) return -1;
  if (table.freeIds.size > 0) {
    table.freeIds.size--;
  } else {
    table.offsets.size++;
    table.lengths.size++;
    table.hashes.size++;
  }
  memcpy(table.bytes + table.bytesUsed, bytes, length);
  table.offsets.items[id] = table.bytesUsed;
  table.lengths.items[id] = length;
  table.hashes.items[id] = hash;
  table.bytesUsed += length;
  table.slots[slot] = id + 1;
  table.liveCount++;
  return id;
}

// Backward-shift deletion: no tombstones, probe chains stay short.
bool release(Table& table, uint32_t id) {
  if (id >= table.offsets.size || table.offsets.items[id] == kDead) return false;
  if (!reserve(table.freeIds, table.freeIds.size + 1)) return false;
  uint32_t slot = table.hashes.items[id] & table.slotMask;
  while (table.slots[slot] != id + 1) slot = (slot + 1) & table.slotMask;
  uint32_t hole = slot;
  for (uint32_t next = (hole + 1) & table.slotMask; table.slots[next] != 0;
       next = (next + 1) & table.slotMask) {
    uint32_t home = table.hashes.items[table.slots[next] - 1] & table.slotMask;
    // Move the entry back when its home is not in (hole, next] (cyclically).
    bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (!stays) {
      table.slots[hole] = table.slots[next];
      hole = next;
    }
  }
  table.slots[hole] = 0;
  table.garbageBytes += table.lengths.items[id];
  table.offsets.items[id] = kDead;
  table.lengths.items[id] = 0;
  table.freeIds.items[table.freeIds.size++] = id;
  table.liveCount--;
  table.releaseCount++;
  return true;
}

// Undoes the creation of `id` (the newest creation not yet undone): an id at or past
// `idLimitBefore` (the id limit before the creations) goes back past the end, any other to the
// free list it came from; the release count is unchanged.
void unintern(Table& table, uint32_t id, uint32_t idLimitBefore) {
  uint32_t length = table.lengths.items[id];
  bool isLastBytes = table.offsets.items[id] + length == table.bytesUsed;
  release(table, id);
  table.releaseCount--;
  table.freeIds.size--;
  if (isLastBytes) {
    table.bytesUsed -= length;
    table.garbageBytes -= length;
  }
  if (id >= idLimitBefore) {
    table.offsets.size--;
    table.lengths.size--;
    table.hashes.size--;
  } else {
    table.freeIds.items[table.freeIds.size++] = id;
  }
}

// --- The code tokenizer's ASCII path (tokenize-code.ts, ascii-words.ts) ---

enum Kind : uint8_t { kOther = 0, kLower = 1, kUpper = 2, kDigit = 3 };

inline Kind kindOf(uint8_t code) {
  if (code >= 'a' && code <= 'z') return kLower;
  if (code >= 'A' && code <= 'Z') return kUpper;
  if (code >= '0' && code <= '9') return kDigit;
  return kOther;
}

inline bool isWordChar(uint8_t code) { return kindOf(code) != kOther || code == '_'; }

inline uint8_t lower(uint8_t code) { return code >= 'A' && code <= 'Z' ? code + 32 : code; }

inline bool isSegmentJoiner(uint8_t code) { return code == '.' || code == '-'; }

inline bool isUnderscore(uint8_t code) { return code == '_'; }

// Calls `visit(start, end)` for each non-empty run of `raw[from, to)` between separators
// (`isSeparator`); returns the number of runs.
template <typename IsSeparator, typename Visit>
uint32_t forEachRun(const uint8_t* raw, uint32_t from, uint32_t to, IsSeparator isSeparator,
                    Visit visit) {
  uint32_t count = 0;
  for (uint32_t p = from; p < to;) {
    while (p < to && isSeparator(raw[p])) p++;
    if (p == to) break;
    uint32_t q = p;
    while (q < to && !isSeparator(raw[q])) q++;
    visit(p, q);
    count++;
    p = q;
  }
  return count;
}

struct Counter {
  Table& table;
  uint8_t* scratch;  // lowercased bytes of the current compound (as long as the compound)
  uint32_t charsMax;
  bool failed = false;

  void count(uint32_t id) {
    if (!growZeroed(table.counts, id + 1)) {
      failed = true;
      return;
    }
    uint32_t previous = table.counts.items[id];
    if (previous == 0 && !push(table.distinct, id)) {
      failed = true;
      return;
    }
    table.counts.items[id] = previous + 1;
  }

  void token(const uint8_t* bytes, uint32_t length) {
    int64_t id = intern(table, bytes, length > charsMax ? charsMax : length, true);
    if (id < 0) {
      failed = true;
      return;
    }
    count(static_cast<uint32_t>(id));
    table.tokenCount++;
  }

  // Keeps an alias (marked, truncated) for after the tokens. Returns the aliases added (1).
  uint32_t alias(const uint8_t* bytes, uint32_t length) {
    uint32_t cut = length > charsMax ? charsMax : length;
    uint32_t needed = table.aliasBytesUsed + cut + 1;
    if (needed > table.aliasBytesCapacity) {
      uint32_t capacity = table.aliasBytesCapacity < kBytesMin ? kBytesMin : table.aliasBytesCapacity;
      while (capacity < needed) capacity *= 2;
      auto* grown = static_cast<uint8_t*>(realloc(table.aliasBytes, capacity));
      if (grown == nullptr) {
        failed = true;
        return 1;
      }
      table.aliasBytes = grown;
      table.aliasBytesCapacity = capacity;
    }
    uint32_t start = table.aliasBytesUsed;
    table.aliasBytes[start] = 0;  // the alias mark, U+0000
    memcpy(table.aliasBytes + start + 1, bytes, cut);
    table.aliasBytesUsed = needed;
    if (!push(table.aliasRanges, start) || !push(table.aliasRanges, cut + 1)) failed = true;
    return 1;
  }

  // Words of an alphanumeric piece (asciiWords): [start, end) pairs relative to `piece`.
  // Calls `visit(start, end)` for each; returns the number of words.
  template <typename Visit>
  static uint32_t words(const uint8_t* piece, uint32_t length, Visit visit) {
    uint32_t count = 0;
    uint32_t start = 0;
    Kind previous = kindOf(piece[0]);
    for (uint32_t i = 1; i < length; i++) {
      Kind kind = kindOf(piece[i]);
      Kind next = i + 1 < length ? kindOf(piece[i + 1]) : kOther;
      bool isCut = (previous == kLower && kind == kUpper) ||
                   (previous == kUpper && kind == kUpper && next == kLower) ||
                   ((previous == kDigit) != (kind == kDigit));
      if (isCut) {
        visit(start, i);
        count++;
        start = i;
      }
      previous = kind;
    }
    visit(start, length);
    return count + 1;
  }

  // One compound `text[start, end)` that is not a simple word. Returns tokens + aliases added.
  uint32_t compound(const uint8_t* text, uint32_t start, uint32_t end) {
    uint32_t length = end - start;
    const uint8_t* raw = text + start;
    for (uint32_t i = 0; i < length; i++) scratch[i] = lower(raw[i]);
    bool hasJoiner = false;
    for (uint32_t i = 0; i < length; i++) {
      if (raw[i] == '.' || raw[i] == '-' || raw[i] == '_') {
        hasJoiner = true;
        break;
      }
    }
    if (!hasJoiner) {
      uint32_t wordCount = words(raw, length, [](uint32_t, uint32_t) {});
      token(scratch, length);
      if (wordCount > 1) {
        words(raw, length, [&](uint32_t a, uint32_t b) { alias(scratch + a, b - a); });
        return 1 + wordCount;
      }
      return 1;
    }
    // Pieces and segments first counted, so the whole form's alias can lead the aliases.
    uint32_t pieceCount = 0;
    uint32_t segmentCount = forEachRun(raw, 0, length, isSegmentJoiner, [&](uint32_t s, uint32_t e) {
      pieceCount += forEachRun(raw, s, e, isUnderscore, [](uint32_t, uint32_t) {});
    });
    if (pieceCount == 0) return 0;
    uint32_t added = 0;
    if (pieceCount > 1 && segmentCount > 1) added += alias(scratch, length);
    forEachRun(raw, 0, length, isSegmentJoiner, [&](uint32_t s, uint32_t e) {
      if (forEachRun(raw, s, e, isUnderscore, [](uint32_t, uint32_t) {}) > 1) {
        added += alias(scratch + s, e - s);
      }
      forEachRun(raw, s, e, isUnderscore, [&](uint32_t p, uint32_t q) {
        uint32_t wordCount = words(raw + p, q - p, [](uint32_t, uint32_t) {});
        if (wordCount > 1) {
          words(raw + p, q - p, [&](uint32_t a, uint32_t b) { alias(scratch + p + a, b - a); });
          added += wordCount;
        }
        token(scratch + p, q - p);
        added++;
      });
    });
    return added;
  }
};

constexpr uint32_t kTablesMax = 1u << 20;
Table** tables = nullptr;
uint32_t tableCount = 0;
U32List freeHandles;

Table* tableOf(uint32_t handle) {
  if (handle == 0 || handle > tableCount) return nullptr;
  return tables[handle - 1];
}

}  // namespace

extern "C" {

EXPORT("vt_alloc") void* vtAlloc(uint32_t size) { return malloc(size); }

EXPORT("vt_free") void vtFree(void* pointer) { free(pointer); }

// A new empty table: its handle (> 0), or 0 when memory runs out.
EXPORT("vt_table_create") uint32_t vtTableCreate() {
  auto* table = static_cast<Table*>(calloc(1, sizeof(Table)));
  if (table == nullptr) return 0;
  if (!initSlots(*table, kSlotsMin)) {
    free(table);
    return 0;
  }
  uint32_t handle;
  if (freeHandles.size > 0) {
    handle = freeHandles.items[--freeHandles.size];
  } else {
    if (tableCount >= kTablesMax) return 0;
    auto* grown = static_cast<Table**>(realloc(tables, (tableCount + 1) * sizeof(Table*)));
    if (grown == nullptr) return 0;
    tables = grown;
    handle = ++tableCount;
  }
  tables[handle - 1] = table;
  return handle;
}

EXPORT("vt_table_destroy") void vtTableDestroy(uint32_t handle) {
  Table* table = tableOf(handle);
  if (table == nullptr) return;
  free(table->bytes);
  free(table->offsets.items);
  free(table->lengths.items);
  free(table->hashes.items);
  free(table->freeIds.items);
  free(table->slots);
  free(table->counts.items);
  free(table->distinct.items);
  free(table->created.items);
  free(table->aliasRanges.items);
  free(table->aliasBytes);
  free(table);
  tables[handle - 1] = nullptr;
  push(freeHandles, handle);
}

// The id of the term `bytes[0, length)`, or -1.
EXPORT("vt_id_of") int32_t vtIdOf(uint32_t handle, const uint8_t* bytes, uint32_t length) {
  Table& table = *tableOf(handle);
  uint32_t slot = findSlot(table, bytes, length, hashBytes(bytes, length));
  return static_cast<int32_t>(table.slots[slot]) - 1;
}

// The id of the term, created when new, as `id * 2 + created`; 0xffffffff when memory runs out.
EXPORT("vt_intern") uint32_t vtIntern(uint32_t handle, const uint8_t* bytes, uint32_t length) {
  Table& table = *tableOf(handle);
  uint32_t before = table.liveCount;
  int64_t id = intern(table, bytes, length, false);
  if (id < 0) return 0xffffffffu;
  return static_cast<uint32_t>(id) * 2 + (table.liveCount != before ? 1 : 0);
}

// Releases a live id; 0 when the id was not live (or memory ran out).
EXPORT("vt_release") uint32_t vtRelease(uint32_t handle, uint32_t id) {
  return release(*tableOf(handle), id) ? 1 : 0;
}

// Sizes the hash table for `termCount` terms ahead of a bulk load. 0 when memory runs out.
EXPORT("vt_reserve") uint32_t vtReserve(uint32_t handle, uint32_t termCount) {
  Table& table = *tableOf(handle);
  uint32_t slotCount = table.slotMask + 1;
  while (slotCount < termCount * 2) slotCount *= 2;
  if (slotCount == table.slotMask + 1) return 1;
  return rehash(table, slotCount) ? 1 : 0;
}

// Appends `count` new terms packed as [u32 length][bytes] at `packed`, in id order, to a table
// with no released ids. 1 on success; 0 when a term repeats or memory runs out (the table is
// then unusable and must be destroyed).
EXPORT("vt_adopt") uint32_t vtAdopt(uint32_t handle, const uint8_t* packed, uint32_t count) {
  Table& table = *tableOf(handle);
  if (table.freeIds.size != 0) return 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t length;
    memcpy(&length, packed, 4);
    const uint8_t* bytes = packed + 4;
    packed += 4 + length;
    uint32_t before = table.liveCount;
    if (intern(table, bytes, length, false) < 0 || table.liveCount == before) return 0;
  }
  return 1;
}

EXPORT("vt_live_count") uint32_t vtLiveCount(uint32_t handle) { return tableOf(handle)->liveCount; }

EXPORT("vt_id_limit") uint32_t vtIdLimit(uint32_t handle) { return tableOf(handle)->offsets.size; }

// The bytes of a live id: their address, with the length at `lengthOut`; 0 when not live.
EXPORT("vt_term") const uint8_t* vtTerm(uint32_t handle, uint32_t id, uint32_t* lengthOut) {
  Table& table = *tableOf(handle);
  if (id >= table.offsets.size || table.offsets.items[id] == kDead) return nullptr;
  *lengthOut = table.lengths.items[id];
  return table.bytes + table.offsets.items[id];
}

// Tokenizes, interns and counts the ASCII text `text[0, length)` (code tokenizer). On success
// (kCountOk) the results are read with the vt_result_* functions; on kCountTooManyTokens or
// kCountNotAscii the table is as before the call.
EXPORT("vt_count_code_ascii")
int32_t vtCountCodeAscii(uint32_t handle, const uint8_t* text, uint32_t length, uint32_t charsMax,
                         uint32_t tokensMax) {
  Table& table = *tableOf(handle);
  for (uint32_t i = 0; i < table.distinct.size; i++) table.counts.items[table.distinct.items[i]] = 0;
  table.distinct.size = 0;
  table.created.size = 0;
  table.aliasRanges.size = 0;
  table.aliasBytesUsed = 0;
  table.tokenCount = 0;
  for (uint32_t i = 0; i < length; i++) {
    if (text[i] >= 0x80) return kCountNotAscii;
  }
  uint32_t idLimitBefore = table.offsets.size;
  auto* scratch = static_cast<uint8_t*>(malloc(length > 0 ? length : 1));
  if (scratch == nullptr) return kCountOutOfMemory;
  Counter counter{table, scratch, charsMax};
  uint32_t seen = 0;
  int32_t status = kCountOk;
  for (uint32_t i = 0; i < length && status == kCountOk;) {
    if (!isWordChar(text[i])) {
      i++;
      continue;
    }
    uint32_t start = i;
    for (;;) {
      while (i < length && isWordChar(text[i])) i++;
      if (i + 1 < length && (text[i] == '.' || text[i] == '-') && isWordChar(text[i + 1])) {
        i++;
        continue;
      }
      break;
    }
    Kind first = kindOf(text[start]);
    bool isSimple = first == kLower || first == kDigit;
    for (uint32_t j = start + 1; isSimple && j < i; j++) isSimple = kindOf(text[j]) == first;
    if (isSimple) {
      counter.token(text + start, i - start);
      seen++;
    } else {
      seen += counter.compound(text, start, i);
    }
    if (counter.failed) status = kCountOutOfMemory;
    else if (seen > tokensMax) status = kCountTooManyTokens;
  }
  free(scratch);
  for (uint32_t a = 0; status == kCountOk && a < table.aliasRanges.size; a += 2) {
    int64_t id = intern(table, table.aliasBytes + table.aliasRanges.items[a],
                        table.aliasRanges.items[a + 1], true);
    if (id < 0) status = kCountOutOfMemory;
    else counter.count(static_cast<uint32_t>(id));
    if (counter.failed) status = kCountOutOfMemory;
  }
  if (status != kCountOk) {
    // Roll back, newest first: ids, free list and bytes are as before the call.
    for (uint32_t i = table.created.size; i > 0; i--) {
      unintern(table, table.created.items[i - 1], idLimitBefore);
    }
    for (uint32_t i = 0; i < table.distinct.size; i++) table.counts.items[table.distinct.items[i]] = 0;
    table.distinct.size = 0;
    table.created.size = 0;
    table.tokenCount = 0;
  }
  return status;
}

// The last successful count: distinct ids in first-occurrence order, then their counts.
EXPORT("vt_result_distinct_count") uint32_t vtResultDistinctCount(uint32_t handle) {
  return tableOf(handle)->distinct.size;
}
EXPORT("vt_result_distinct") const uint32_t* vtResultDistinct(uint32_t handle) {
  return tableOf(handle)->distinct.items;
}
EXPORT("vt_result_counts") const uint32_t* vtResultCounts(uint32_t handle) {
  return tableOf(handle)->counts.items;
}
EXPORT("vt_result_token_count") uint32_t vtResultTokenCount(uint32_t handle) {
  return tableOf(handle)->tokenCount;
}
// The ids the last count created, in creation order.
EXPORT("vt_result_created_count") uint32_t vtResultCreatedCount(uint32_t handle) {
  return tableOf(handle)->created.size;
}
EXPORT("vt_result_created") const uint32_t* vtResultCreated(uint32_t handle) {
  return tableOf(handle)->created.items;
}

}  // extern "C"
