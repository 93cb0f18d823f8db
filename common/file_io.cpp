// SPDX-License-Identifier: LGPL-2.1-or-later
#include "file_io.hpp"

#include "owned.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace psc {
namespace {

std::string errno_text(int e) {
    return std::strerror(e);
}

Result<FileData> read_fd(int fd, const std::string& path, const FileRules& rules) {
    struct stat st {};
    if (::fstat(fd, &st) < 0)
        return make_error(Errc::io, "file_stat", path + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode))
        return make_error(Errc::config, "file_not_regular", path + ": not a regular file");
    if (rules.required_owner >= 0 && st.st_uid != static_cast<uid_t>(rules.required_owner) &&
        st.st_uid != 0)
        return make_error(Errc::config, "file_owner",
                          path + ": owned by uid " + std::to_string(st.st_uid) +
                              ", must be owned by root");
    if (rules.refuse_group_world_writable && (st.st_mode & (S_IWGRP | S_IWOTH)))
        return make_error(Errc::config, "file_mode",
                          path + ": writable by group or others (chmod go-w)");
    if (rules.refuse_group_world_readable && (st.st_mode & (S_IRWXG | S_IRWXO)))
        return make_error(Errc::config, "file_mode",
                          path + ": accessible by group or others (chmod 600)");
    if (static_cast<std::size_t>(st.st_size) > rules.max_bytes)
        return make_error(Errc::config, "file_too_large",
                          path + ": larger than " + std::to_string(rules.max_bytes) + " bytes");

    FileData out;
    out.owner = st.st_uid;
    out.mode = st.st_mode;
    out.mtime = st.st_mtim;
    out.ctime = st.st_ctim;
    out.size = st.st_size;
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.content.reserve(static_cast<std::size_t>(st.st_size));
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(Errc::io, "file_read", path + ": " + errno_text(errno));
        if (n == 0)
            break;
        // The file may grow between fstat and read: enforce the cap on what is read too.
        if (out.content.size() + static_cast<std::size_t>(n) > rules.max_bytes)
            return make_error(Errc::config, "file_too_large",
                              path + ": larger than " + std::to_string(rules.max_bytes) + " bytes");
        out.content.append(buf, static_cast<std::size_t>(n));
    }
    secure_wipe(buf, sizeof buf);
    return out;
}

} // namespace

Result<FileData> read_file_checked(const std::string& path, const FileRules& rules) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
        const int e = errno;
        if (e == ELOOP)
            return make_error(Errc::config, "file_symlink", path + ": is a symbolic link");
        return make_error(e == ENOENT ? Errc::config : Errc::io, "file_open",
                          path + ": " + errno_text(e));
    }
    return read_fd(fd.get(), path, rules);
}

Result<Secret> read_secret_file(const std::string& path, const FileRules& rules) {
    auto r = read_file_checked(path, rules);
    if (!r)
        return std::move(r).error();
    std::string& s = r->content;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return Secret::adopt(std::move(s));
}

} // namespace psc
