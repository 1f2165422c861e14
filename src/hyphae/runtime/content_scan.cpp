#include "hyphae/runtime/content_scan.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <dirent.h>
#include <sys/stat.h>

namespace hyphae {
using namespace hyphae::bittorrent;
namespace {

constexpr std::size_t depth_max = 256;

tl::unexpected<error> os_error(const std::string& path, const char* action, int err) {
    return fail(errc::io, path, std::string(action) + ": " + std::strerror(err));
}

struct walker {
    content_tree& tree;
    std::vector<std::pair<dev_t, ino_t>> ancestors;

    result<void> walk(const std::string& dir, const std::string& relative) {
        if (ancestors.size() > depth_max) {
            return fail(errc::limit_exceeded, dir, "folders nested deeper than " + std::to_string(depth_max));
        }
        std::unique_ptr<DIR, int (*)(DIR*)> handle(opendir(dir.c_str()), closedir);
        if (!handle) {
            return os_error(dir, "cannot open folder", errno);
        }
        while (true) {
            errno = 0;
            const dirent* entry = readdir(handle.get());
            if (entry == nullptr) {
                if (errno != 0) {
                    return os_error(dir, "cannot read folder", errno);
                }
                break;
            }
            const std::string name = entry->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            const std::string full = dir + "/" + name;
            const std::string rel = relative.empty() ? name : relative + "/" + name;
            struct stat st {};
            if (stat(full.c_str(), &st) != 0) {
                struct stat link {};
                if (errno == ENOENT && lstat(full.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
                    tree.warnings.push_back("skipped broken symbolic link '" + rel + "'");
                    continue;
                }
                return os_error(full, "cannot stat", errno);
            }
            if (S_ISDIR(st.st_mode)) {
                for (const auto& [dev, ino] : ancestors) {
                    if (dev == st.st_dev && ino == st.st_ino) {
                        return fail(errc::invalid_input, full,
                                    "symbolic link loop: the folder contains itself");
                    }
                }
                ancestors.emplace_back(st.st_dev, st.st_ino);
                if (auto r = walk(full, rel); !r) {
                    return r;
                }
                ancestors.pop_back();
            } else if (S_ISREG(st.st_mode)) {
                tree.files.push_back({rel, static_cast<std::int64_t>(st.st_size)});
                tree.total_size += st.st_size;
            } else {
                tree.warnings.push_back("skipped '" + rel + "': not a regular file");
            }
        }
        return {};
    }
};

}  // namespace

std::string content_tree::absolute_path(const source_file& file) const {
    return multi_file ? root + "/" + file.path : root;
}

result<content_tree> scan_content(const std::string& path) {
    std::string root = path;
    while (root.size() > 1 && root.back() == '/') {
        root.pop_back();
    }
    content_tree tree;
    tree.root = root;
    const std::size_t slash = root.rfind('/');
    tree.name = slash == std::string::npos ? root : root.substr(slash + 1);
    if (tree.name.empty() || tree.name == "." || tree.name == "..") {
        // "." or "/": name the torrent after the folder it really is.
        std::unique_ptr<char, void (*)(void*)> real(realpath(root.c_str(), nullptr), std::free);
        if (!real) {
            return os_error(path, "cannot resolve", errno);
        }
        const std::string resolved = real.get();
        tree.name = resolved.substr(resolved.rfind('/') + 1);
        if (tree.name.empty()) {
            return fail(errc::invalid_argument, path, "cannot make a torrent of the root folder");
        }
    }

    struct stat st {};
    if (stat(root.c_str(), &st) != 0) {
        return os_error(path, "cannot stat", errno);
    }
    if (S_ISREG(st.st_mode)) {
        tree.files.push_back({"", static_cast<std::int64_t>(st.st_size)});
        tree.total_size = st.st_size;
        return tree;
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(errc::invalid_argument, path, "neither a regular file nor a folder");
    }
    tree.multi_file = true;
    walker w{tree, {{st.st_dev, st.st_ino}}};
    if (auto r = w.walk(root, ""); !r) {
        return tl::unexpected(r.error());
    }
    if (tree.files.empty()) {
        return fail(errc::invalid_argument, path, "the folder holds no files");
    }
    sort_like_mktorrent(tree.files);
    return tree;
}

}  // namespace hyphae
