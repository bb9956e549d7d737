// A map that keeps its `capacity` most recently used entries: the cuda
// backend's per-shape cuDNN plans (a stream whose size changes keeps the
// plans of the sizes it uses, not one per size it ever saw).
//
// Thread safety: none; one owner at a time.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <utility>

namespace espcn {

template <class K, class V>
class LruCache {
public:
    explicit LruCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    // The entry of `key`, now the most recently used; null when absent.
    V *find(const K &key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        entries_.splice(entries_.begin(), entries_, it->second);
        return &it->second->second;
    }
    // Inserts (or replaces) the entry of `key` as the most recently used and
    // drops the least recently used beyond capacity. The reference is valid
    // until the entry is dropped.
    V &put(const K &key, V value) {
        if (V *v = find(key)) {
            *v = std::move(value);
            return *v;
        }
        entries_.emplace_front(key, std::move(value));
        index_.emplace(key, entries_.begin());
        while (entries_.size() > capacity_) {
            index_.erase(entries_.back().first);
            entries_.pop_back();
        }
        return entries_.front().second;
    }
    bool contains(const K &key) const { return index_.count(key) != 0; }
    size_t size() const { return entries_.size(); }
    size_t capacity() const { return capacity_; }
    void clear() {
        index_.clear();
        entries_.clear();
    }

private:
    size_t capacity_;
    std::list<std::pair<K, V>> entries_;  // most recently used first
    std::map<K, typename std::list<std::pair<K, V>>::iterator> index_;
};

}  // namespace espcn
