// SPDX-License-Identifier: LGPL-2.1-or-later
#include "map_file.hpp"

#include "file_io.hpp"

#include <sys/stat.h>
#include <time.h>

namespace psc {
namespace {

FileRules map_rules(uid_t trusted_owner) {
    FileRules rules;
    rules.required_owner = static_cast<long>(trusted_owner);
    rules.refuse_group_world_writable = true;
    return rules;
}

Error unusable(const std::string& path, const Error& e) {
    // parse()'s messages already start with "path:line".
    const bool located = e.message.rfind(path, 0) == 0;
    return make_error(Errc::config, "map_unusable",
                      located ? e.message : path + ": " + e.describe());
}

bool same_time(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Unchanged for two seconds by the wall clock.
bool settled(const struct timespec& ctime) {
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec - ctime.tv_sec >= 2;
}

} // namespace

Result<UserMap> read_user_map(const std::string& path, uid_t trusted_owner) {
    auto f = read_file_checked(path, map_rules(trusted_owner));
    if (!f)
        return unusable(path, f.error());
    auto parsed = UserMap::parse(f->content, path);
    if (!parsed)
        return unusable(path, parsed.error());
    return std::move(*parsed);
}

// One lstat per login while the file is unchanged. The owner and mode were checked when it was
// read; chmod, chown, a write or a replacement change its ctime, inode or size, and a symbolic
// link's own inode never matches the file's, so each of those takes the full, checked read.
Result<const UserMap*> MapFileCache::get(const std::string& path) {
    struct stat st {};
    if (map_ && settled_ && ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev_ &&
        st.st_ino == ino_ && st.st_size == size_ && same_time(st.st_mtim, mtime_) &&
        same_time(st.st_ctim, ctime_))
        return &*map_;
    auto f = read_file_checked(path, map_rules(trusted_owner_));
    if (!f) {
        map_.reset();
        return unusable(path, f.error());
    }
    auto parsed = UserMap::parse(f->content, path);
    if (!parsed) {
        map_.reset();
        return unusable(path, parsed.error());
    }
    map_ = std::move(*parsed);
    dev_ = f->dev;
    ino_ = f->ino;
    size_ = f->size;
    mtime_ = f->mtime;
    ctime_ = f->ctime;
    settled_ = settled(f->ctime);
    return &*map_;
}

} // namespace psc
