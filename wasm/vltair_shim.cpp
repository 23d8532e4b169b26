/*
 * vltair's additions to USearch's C API (c/lib.cpp), compiled into the same WASM module.
 *
 * - Exact (brute-force) search over the vectors of an index, optionally filtered.
 * - Filtered search inside the HNSW walk, with the admitted keys given either as a sorted
 *   array in WASM memory (binary search per visited node, no JS call) or as a JS predicate
 *   imported as `vltair.filter(key, token)`.
 * - A batch add, so one call crosses the JS/WASM boundary per batch rather than per vector.
 * - Windowed save and streaming load (`vltair.read`), so no copy of the whole serialized index
 *   is ever held in the module's memory (which can grow but never shrink).
 * - `mmap` / `munmap` for USearch's arena allocator, without wasi-libc's zero fill: an arena is
 *   touched (and becomes resident) only as far as USearch fills it.
 *
 * Every function reports failure through `error` (a static C string, never freed), like
 * USearch's own C API; none of them throws or aborts on bad input the binding can produce.
 */
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

#include <usearch/index_dense.hpp>

extern "C" {
#include "usearch.h"
}

using namespace unum::usearch;

using search_result_t = typename index_dense_t::search_result_t;

/* The binding's predicate trampoline: returns non-zero when `key` is admitted. */
extern "C" __attribute__((import_module("vltair"), import_name("filter"))) int
vltair_filter_import(std::uint64_t key, std::uint32_t token);

/*
 * The binding's byte source for a streaming load: copies up to `length` of the next bytes to
 * `buffer` and returns how many (0 at the end of the source).
 */
extern "C" __attribute__((import_module("vltair"), import_name("read"))) std::size_t
vltair_read_import(void* buffer, std::size_t length);

namespace {

/*
 * Read-ahead of a streaming load. USearch asks for one small piece per vector and per node
 * (about 200k pieces for 100k vectors); pulling them from JS one by one cost about 0.1 s of
 * CPU per 100k × 384-d load, so the bytes come over 64 KiB at a time and pieces are copied out
 * of this block. A piece of at least a block is read straight into place.
 */
constexpr std::size_t load_block_bytes = 64 * 1024;
alignas(16) unsigned char load_block[load_block_bytes];
std::size_t load_block_begin = 0;
std::size_t load_block_end = 0;

bool load_read(void* buffer, std::size_t length) noexcept {
    auto* out = static_cast<unsigned char*>(buffer);
    while (length != 0) {
        if (load_block_begin == load_block_end) {
            if (length >= load_block_bytes)
                return vltair_read_import(out, length) == length;
            load_block_begin = 0;
            load_block_end = vltair_read_import(load_block, load_block_bytes);
            if (load_block_end == 0)
                return false;
        }
        std::size_t piece = load_block_end - load_block_begin;
        if (piece > length)
            piece = length;
        std::memcpy(out, load_block + load_block_begin, piece);
        load_block_begin += piece;
        out += piece;
        length -= piece;
    }
    return true;
}

/* Arenas are aligned for USearch's widest use (64-byte node and vector tapes). */
constexpr std::size_t arena_alignment_bytes = 64;

struct sorted_keys_t {
    std::uint64_t const* keys;
    std::size_t count;

    bool contains(std::uint64_t key) const noexcept {
        std::size_t low = 0, high = count;
        while (low < high) {
            std::size_t mid = low + (high - low) / 2;
            std::uint64_t value = keys[mid];
            if (value == key)
                return true;
            if (value < key)
                low = mid + 1;
            else
                high = mid;
        }
        return false;
    }
};

std::size_t finish(search_result_t& result, std::size_t count, usearch_key_t* keys, usearch_distance_t* distances,
                   usearch_error_t* error) {
    if (!result) {
        *error = result.error.release();
        return 0;
    }
    return result.dump_to(keys, distances, count);
}

} // namespace

extern "C" {

/* Creates an index from plain arguments, so the binding never lays out `usearch_init_options_t`. */
__attribute__((export_name("vltair_init"))) usearch_index_t vltair_init( //
    int metric_kind, int quantization, std::size_t dimensions,             //
    std::size_t connectivity, std::size_t expansion_add, std::size_t expansion_search, usearch_error_t* error) {
    usearch_init_options_t options{};
    options.metric_kind = static_cast<usearch_metric_kind_t>(metric_kind);
    options.metric = nullptr;
    options.quantization = static_cast<usearch_scalar_kind_t>(quantization);
    options.dimensions = dimensions;
    options.connectivity = connectivity;
    options.expansion_add = expansion_add;
    options.expansion_search = expansion_search;
    options.multi = false;
    return usearch_init(&options, error);
}

/* Exact search over every live vector of the index; `exact` mirrors USearch's flag. */
__attribute__((export_name("vltair_search_exact"))) std::size_t vltair_search_exact( //
    usearch_index_t index, float const* query, std::size_t count,                    //
    usearch_key_t* keys, usearch_distance_t* distances, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    search_result_t result = typed->search(query, count, index_dense_t::any_thread(), true);
    return finish(result, count, keys, distances, error);
}

/* Search admitting only the keys of a sorted, duplicate-free array; exact when `exact` != 0. */
__attribute__((export_name("vltair_search_allowed"))) std::size_t vltair_search_allowed( //
    usearch_index_t index, float const* query, std::size_t count,                        //
    std::uint64_t const* allowed, std::size_t allowed_count, int exact,                  //
    usearch_key_t* keys, usearch_distance_t* distances, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    sorted_keys_t set{allowed, allowed_count};
    search_result_t result = typed->filtered_search(
        query, count, [&set](usearch_key_t key) noexcept { return set.contains(key); }, index_dense_t::any_thread(),
        exact != 0);
    return finish(result, count, keys, distances, error);
}

/* Search admitting the keys the JS predicate registered under `token` accepts. */
__attribute__((export_name("vltair_search_predicate"))) std::size_t vltair_search_predicate( //
    usearch_index_t index, float const* query, std::size_t count,                            //
    std::uint32_t token, int exact,                                                          //
    usearch_key_t* keys, usearch_distance_t* distances, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    search_result_t result = typed->filtered_search(
        query, count, [token](usearch_key_t key) noexcept { return vltair_filter_import(key, token) != 0; },
        index_dense_t::any_thread(), exact != 0);
    return finish(result, count, keys, distances, error);
}

/*
 * Exact k nearest among `candidates` (sorted, duplicate-free keys): one hash lookup and one
 * distance per candidate, so a small allowed-key set costs O(candidates), not O(index size).
 * The query is cast to the index's scalar kind exactly as `search` casts it, and the distance
 * is USearch's own metric, so distances equal those of the graph walk. Absent keys are
 * skipped; ties keep the smaller key first.
 */
__attribute__((export_name("vltair_search_keys"))) std::size_t vltair_search_keys( //
    usearch_index_t index, float const* query, std::size_t count,                  //
    std::uint64_t const* candidates, std::size_t candidates_count,                 //
    usearch_key_t* keys, usearch_distance_t* distances, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    scalar_kind_t kind = typed->scalar_kind();
    if (kind != scalar_kind_t::f32_k && kind != scalar_kind_t::f16_k && kind != scalar_kind_t::i8_k) {
        *error = "Unsupported scalar kind for a key search";
        return 0;
    }
    auto* casted = static_cast<byte_t*>(std::malloc(typed->metric().bytes_per_vector()));
    if (!casted) {
        *error = "Out of memory!";
        return 0;
    }
    casts_punned_t casts = casts_punned_t::make(kind);
    bool was_casted = casts.from.f32(reinterpret_cast<byte_t const*>(query), typed->dimensions(), casted);
    byte_t const* cast_query = was_casted ? casted : reinterpret_cast<byte_t const*>(query);

    std::size_t found = 0;
    for (std::size_t i = 0; i != candidates_count && count != 0; ++i) {
        std::uint64_t key = candidates[i];
        index_dense_t::aggregated_distances_t measured;
        if (kind == scalar_kind_t::f32_k)
            measured = typed->distance_between(key, reinterpret_cast<f32_t const*>(cast_query));
        else if (kind == scalar_kind_t::f16_k)
            measured = typed->distance_between(key, reinterpret_cast<f16_t const*>(cast_query));
        else
            measured = typed->distance_between(key, reinterpret_cast<i8_t const*>(cast_query));
        if (measured.count == 0)
            continue;
        usearch_distance_t distance = measured.min;
        // Candidates come in ascending key order, so "not smaller" keeps ties by smaller key.
        if (found == count && !(distance < distances[found - 1]))
            continue;
        std::size_t position = found < count ? found++ : count - 1;
        while (position > 0 && distances[position - 1] > distance) {
            keys[position] = keys[position - 1];
            distances[position] = distances[position - 1];
            --position;
        }
        keys[position] = key;
        distances[position] = distance;
    }
    std::free(casted);
    return found;
}

/* Adds `count` f32 vectors of `dimensions` scalars; returns how many were added before an error. */
__attribute__((export_name("vltair_add_batch"))) std::size_t vltair_add_batch( //
    usearch_index_t index, usearch_key_t const* keys, float const* vectors,    //
    std::size_t count, std::size_t dimensions, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    for (std::size_t i = 0; i != count; ++i) {
        auto result = typed->add(keys[i], vectors + i * dimensions);
        if (!result) {
            *error = result.error.release();
            return i;
        }
    }
    return count;
}

} // extern "C"

/*
 * Loads a serialized index by pulling its bytes from the binding (`vltair.read`) through a 64 KiB
 * read-ahead block, straight into the index's own allocations: unlike `usearch_load_buffer`, no
 * copy of the whole serialized index is ever held in the module's memory (which can grow but
 * never shrink). Returns how many bytes were read ahead but not used, so the binding can tell
 * trailing bytes from the end of the index.
 */
__attribute__((export_name("vltair_load_stream"))) std::size_t vltair_load_stream( //
    usearch_index_t index, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    load_block_begin = load_block_end = 0;
    serialization_result_t result =
        typed->load_from_stream([](void* buffer, std::size_t length) noexcept { return load_read(buffer, length); });
    std::size_t unused = load_block_end - load_block_begin;
    load_block_begin = load_block_end = 0;
    if (!result)
        *error = result.error.release();
    return unused;
}

/*
 * Writes bytes [offset, offset + length) of the serialized index (the bytes `usearch_save_buffer`
 * would write: the same `save_to_stream`) to `buffer`. The binding calls it window by window
 * into one small buffer, so the module never holds a buffer of the whole serialized length
 * (its memory would stay grown by that much for good). Each call walks the index from the
 * start and stops after the window: a few cheap passes (pointer walks and memcpy).
 */
__attribute__((export_name("vltair_save_window"))) void vltair_save_window( //
    usearch_index_t index, std::size_t offset, unsigned char* buffer, std::size_t length, usearch_error_t* error) {
    auto* typed = reinterpret_cast<index_dense_t*>(index);
    std::size_t const end = offset + length;
    std::size_t position = 0;
    serialization_result_t result = typed->save_to_stream([&](void const* piece, std::size_t piece_length) noexcept {
        std::size_t const piece_end = position + piece_length;
        if (piece_end > offset && position < end) {
            std::size_t const from = position > offset ? position : offset;
            std::size_t const to = piece_end < end ? piece_end : end;
            std::memcpy(buffer + (from - offset), static_cast<unsigned char const*>(piece) + (from - position),
                        to - from);
        }
        position = piece_end;
        // Stopping early surfaces as a stream error, told apart below by how far it got.
        return position < end;
    });
    if (!result) {
        char const* message = result.error.release();
        if (position < end)
            *error = message;
    }
}

/*
 * Anonymous mappings only (USearch's `page_allocator_t`; the module has no files). wasi-libc's
 * emulation zero-fills every mapping, which touches the whole arena at once: USearch's arenas
 * double (8, 16, ... 128 MiB), so up to half of the newest one would be resident while unused.
 * USearch treats arena memory as uninitialized (nodes are zeroed when made, vectors copied in),
 * and fresh linear memory is zero anyway, so the fill is skipped.
 */
extern "C" void* mmap(void* address, std::size_t length, int, int flags, int, off_t) {
    if (address != nullptr || (flags & MAP_ANONYMOUS) == 0 || length == 0) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    std::size_t rounded = (length + arena_alignment_bytes - 1) / arena_alignment_bytes * arena_alignment_bytes;
    void* memory = std::aligned_alloc(arena_alignment_bytes, rounded);
    if (memory == nullptr) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return memory;
}

extern "C" int munmap(void* address, std::size_t) {
    std::free(address);
    return 0;
}
