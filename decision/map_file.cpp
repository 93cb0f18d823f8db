// SPDX-License-Identifier: LGPL-2.1-or-later
#include "map_file.hpp"

#include "file_io.hpp"

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

Result<const UserMap*> MapFileCache::get(const std::string& path) {
    auto f = read_file_checked(path, map_rules(trusted_owner_));
    if (!f) {
        map_.reset();
        return unusable(path, f.error());
    }
    const bool same = map_ && f->dev == dev_ && f->ino == ino_ &&
                      f->mtime.tv_sec == mtime_.tv_sec && f->mtime.tv_nsec == mtime_.tv_nsec;
    if (same)
        return &*map_;
    auto parsed = UserMap::parse(f->content, path);
    if (!parsed) {
        map_.reset();
        return unusable(path, parsed.error());
    }
    map_ = std::move(*parsed);
    dev_ = f->dev;
    ino_ = f->ino;
    mtime_ = f->mtime;
    return &*map_;
}

} // namespace psc
