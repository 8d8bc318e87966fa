// The BPE model: hash tables, initial symbols (unknown and byte-fallback handling as tokenizers'
// BPE::merge_word), the merge loop (lowest rank first, leftmost on ties), and the word cache.
#include "core/bpe_model.h"

#include "core/unicode_text.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <queue>
#include <stdexcept>

namespace lb {

namespace {

uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  h = (h ^ v) * 0x94d049bb133111ebull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

uint64_t hash_pair(uint64_t key) {
  key *= 0x9E3779B97F4A7C15ull;
  return key ^ (key >> 29);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// StringTable

void StringTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(cap, Slot{});
  const size_t mask = cap - 1;
  for (const Slot& s : old) {
    if (s.value < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].value >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void StringTable::grow() { reserve(std::max<size_t>(16, slots_.size())); }

bool StringTable::insert(std::string_view key, int32_t value) {
  if (value < 0) throw std::invalid_argument("StringTable: negative value");
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash_bytes(key.data(), key.size());
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].value >= 0) {
    const Slot& s = slots_[i];
    if (s.hash == h && s.length == key.size() && std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
      return false;
    i = (i + 1) & mask;
  }
  Slot& s = slots_[i];
  s.hash = h;
  s.offset = static_cast<uint32_t>(arena_.size());
  s.length = static_cast<uint32_t>(key.size());
  s.value = value;
  arena_.append(key.data(), key.size());
  ++count_;
  return true;
}

int32_t StringTable::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint64_t h = hash_bytes(key.data(), key.size());
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].value >= 0) {
    const Slot& s = slots_[i];
    if (s.hash == h && s.length == key.size() && std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
      return s.value;
    i = (i + 1) & mask;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// PairTable

void PairTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  if (cap <= slots_.size()) return;
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(cap, Slot{});
  const size_t mask = cap - 1;
  for (const Slot& s : old) {
    if (s.key == ~uint64_t{0}) continue;
    size_t i = hash_pair(s.key) & mask;
    while (slots_[i].key != ~uint64_t{0}) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void PairTable::grow() { reserve(std::max<size_t>(16, slots_.size())); }

bool PairTable::insert(int32_t left, int32_t right, Merge m) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  const size_t mask = slots_.size() - 1;
  size_t i = hash_pair(key) & mask;
  while (slots_[i].key != ~uint64_t{0}) {
    if (slots_[i].key == key) {
      slots_[i].merge = m;  // a repeated pair keeps its last rank, as tokenizers' HashMap does
      return false;
    }
    i = (i + 1) & mask;
  }
  slots_[i].key = key;
  slots_[i].merge = m;
  ++count_;
  return true;
}

const PairTable::Merge* PairTable::find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  const size_t mask = slots_.size() - 1;
  size_t i = hash_pair(key) & mask;
  while (slots_[i].key != ~uint64_t{0}) {
    if (slots_[i].key == key) return &slots_[i].merge;
    i = (i + 1) & mask;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Word cache: per thread (no lock on the hot path), a few models at a time, bounded in size.

namespace {

constexpr size_t kMaxCachedWordBytes = 256;  // tokenizers' MAX_LENGTH: longer words are not cached
constexpr size_t kCacheWords = 1 << 17;
constexpr size_t kCachesPerThread = 4;

struct WordCache {
  uint64_t serial = 0;
  StringTable index;  // word -> entry
  std::vector<std::pair<uint32_t, uint32_t>> entries;  // (offset, count) into ids
  std::vector<int32_t> ids;
};

WordCache& cache_for(uint64_t serial) {
  thread_local std::vector<std::unique_ptr<WordCache>> caches;
  for (size_t i = 0; i < caches.size(); ++i) {
    if (caches[i]->serial == serial) {
      if (i != 0) std::swap(caches[i], caches[0]);
      return *caches[0];
    }
  }
  if (caches.size() >= kCachesPerThread) caches.pop_back();
  auto c = std::make_unique<WordCache>();
  c->serial = serial;
  caches.insert(caches.begin(), std::move(c));
  return *caches[0];
}

std::atomic<uint64_t> next_serial{1};

}  // namespace

// ---------------------------------------------------------------------------------------------
// BpeModel

BpeModel::BpeModel(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options)
    : tokens_(std::move(tokens)), options_(options), serial_(next_serial++) {
  vocab_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    if (!tokens_[id].empty()) vocab_.insert(tokens_[id], static_cast<int32_t>(id));
  }
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  std::fill(std::begin(fallback_ids_), std::end(fallback_ids_), -1);
  if (options_.byte_level) {
    input_vocab_.reserve(tokens_.size());
    std::string raw;
    for (size_t id = 0; id < tokens_.size(); ++id) {
      const std::string& t = tokens_[id];
      if (t.empty() || unicode::valid_utf8_prefix(t) != t.size()) continue;
      raw.clear();
      bool mappable = true;
      for (size_t i = 0; i < t.size();) {
        int len = 0;
        const int b = unicode::char_to_byte(unicode::decode_at(t, i, &len));
        if (b < 0) {
          mappable = false;
          break;
        }
        raw.push_back(static_cast<char>(b));
        i += len;
      }
      if (mappable) input_vocab_.insert(raw, static_cast<int32_t>(id));  // unmappable: BPE never makes it
    }
    for (int b = 0; b < 256; ++b) byte_ids_[b] = input_vocab_.find(std::string(1, static_cast<char>(b)));
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    fallback_ids_[b] = vocab_.find(name);
  }
  merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const int32_t ia = vocab_.find(a), ib = vocab_.find(b);
    joined = a + b;
    const int32_t inew = vocab_.find(joined);
    const char* missing = ia < 0 ? a.c_str() : ib < 0 ? b.c_str() : inew < 0 ? joined.c_str() : nullptr;
    if (missing) {
      throw std::invalid_argument("merge " + std::to_string(rank) + " ('" + a + "' '" + b + "'): token '" +
                                  missing + "' is not in the vocabulary");
    }
    merges_.insert(ia, ib, {static_cast<int32_t>(rank), inew});
  }
}

int32_t BpeModel::find(std::string_view token) const { return vocab_.find(token); }

void BpeModel::initial_symbols(std::string_view word, std::vector<int32_t>& ids) const {
  bool pending_unk = false;
  auto unknown = [&](std::string_view ch) {
    if (options_.byte_fallback) {
      bool all = true;
      for (char c : ch) all = all && fallback_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {  // (a pending unknown token stays pending, as in tokenizers)
        for (char c : ch) ids.push_back(fallback_ids_[static_cast<unsigned char>(c)]);
        return;
      }
    }
    if (!options_.unk_id) return;  // no unknown token: tokenizers drops the character
    if (pending_unk && !options_.fuse_unk) ids.push_back(*options_.unk_id);
    pending_unk = true;
  };
  auto known = [&](int32_t id) {
    if (pending_unk) {
      ids.push_back(*options_.unk_id);
      pending_unk = false;
    }
    ids.push_back(id);
  };
  if (options_.byte_level) {
    for (char c : word) {
      const int32_t id = byte_ids_[static_cast<unsigned char>(c)];
      if (id >= 0) {
        known(id);
      } else {
        std::string mapped;
        unicode::append_utf8(mapped, unicode::byte_to_char(static_cast<uint8_t>(c)));
        unknown(mapped);
      }
    }
  } else {
    for (size_t i = 0; i < word.size();) {
      const size_t len = std::min<size_t>(unicode::utf8_length(static_cast<unsigned char>(word[i])), word.size() - i);
      const std::string_view ch = word.substr(i, len);
      const int32_t id = vocab_.find(ch);
      if (id >= 0) known(id); else unknown(ch);
      i += len;
    }
  }
  if (pending_unk) ids.push_back(*options_.unk_id);
}

// Few symbols: repeatedly merge the adjacent pair of lowest rank (leftmost on ties). This is the
// order tokenizers' heap gives: it pops the smallest (rank, position) among the live pairs.
void BpeModel::merge_small(std::vector<int32_t>& ids) const {
  size_t n = ids.size();
  if (n < 2) return;
  int32_t rank[64], new_id[64];
  auto look = [&](size_t i) {
    const PairTable::Merge* m = merges_.find(ids[i], ids[i + 1]);
    rank[i] = m ? m->rank : INT_MAX;
    new_id[i] = m ? m->new_id : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) look(i);
  for (;;) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == INT_MAX) break;
    ids[best] = new_id[best];
    for (size_t i = best + 1; i + 1 < n; ++i) ids[i] = ids[i + 1];
    for (size_t i = best; i + 2 < n; ++i) {
      rank[i] = rank[i + 1];
      new_id[i] = new_id[i + 1];
    }
    --n;
    if (best > 0) look(best - 1);
    if (best + 1 < n) look(best);
    if (n < 2) break;
  }
  ids.resize(n);
}

// Many symbols (a SentencePiece-style model sees a whole text as one word): a linked list and a
// heap of candidate merges, as tokenizers' Word::merge_all.
void BpeModel::merge_large(std::vector<int32_t>& ids) const {
  const int n = static_cast<int>(ids.size());
  std::vector<int> prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator<(const Candidate& o) const {  // priority_queue pops the largest: invert
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::vector<Candidate> storage;
  storage.reserve(n);
  std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(storage));
  for (int i = 0; i + 1 < n; ++i) {
    if (const PairTable::Merge* m = merges_.find(ids[i], ids[i + 1])) queue.push({m->rank, i, m->new_id});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int right = next[top.pos];
    const PairTable::Merge* m = merges_.find(ids[top.pos], ids[right]);
    if (!m || m->new_id != top.new_id) continue;  // an expired candidate
    ids[top.pos] = top.new_id;
    alive[right] = 0;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0) {
      const int p = prev[top.pos];
      if (const PairTable::Merge* pm = merges_.find(ids[p], ids[top.pos])) queue.push({pm->rank, p, pm->new_id});
    }
    if (next[top.pos] >= 0) {
      if (const PairTable::Merge* nm = merges_.find(ids[top.pos], ids[next[top.pos]]))
        queue.push({nm->rank, top.pos, nm->new_id});
    }
  }
  size_t k = 0;
  for (int i = 0; i < n; ++i)
    if (alive[i]) ids[k++] = ids[i];
  ids.resize(k);
}

void BpeModel::encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const int32_t id = options_.byte_level ? input_vocab_.find(word) : vocab_.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  thread_local std::vector<int32_t> ids;
  ids.clear();
  initial_symbols(word, ids);
  if (ids.size() <= 64) merge_small(ids); else merge_large(ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() >= kMaxCachedWordBytes) {
    encode_word_uncached(word, out);
    return;
  }
  WordCache& cache = cache_for(serial_);
  const int32_t entry = cache.index.find(word);
  if (entry >= 0) {
    const auto [offset, count] = cache.entries[entry];
    out.insert(out.end(), cache.ids.begin() + offset, cache.ids.begin() + offset + count);
    return;
  }
  const size_t before = out.size();
  encode_word_uncached(word, out);
  if (cache.entries.size() < kCacheWords) {
    cache.index.insert(word, static_cast<int32_t>(cache.entries.size()));
    cache.entries.emplace_back(static_cast<uint32_t>(cache.ids.size()), static_cast<uint32_t>(out.size() - before));
    cache.ids.insert(cache.ids.end(), out.begin() + before, out.end());
  }
}

}  // namespace lb
