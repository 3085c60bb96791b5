// SPDX-License-Identifier: Apache-2.0
#pragma once
// Owner-only state on disk: node.data_dir is created 0700, and an existing data dir or a file
// directly in it that grants group or other permission bits is tightened to owner-only, with a
// warning line per change (a data dir from an older release held herald.db 0644 in a 0755 dir).
// Pure file-system functions; called on the starting thread (node::start, secret loading).
// Invariant: nothing is loosened; only what the process owns is changed, everything else is
// reported.

#include <optional>
#include <string>
#include <vector>

#include <filesystem>

namespace herald::node {

/// What make_private_dir did: an error line (the dir could not be created) or warnings.
struct private_dir_result {
  std::optional<std::string> error;
  std::vector<std::string> warnings;
};

/// Creates `dir` (parents with the process umask, `dir` itself 0700). An existing `dir` with
/// group/other bits is chmodded to owner-only when it holds one of `own_files` (so it is a
/// node's data dir, e.g. from an older release), belongs to this process and is not a sticky
/// shared directory such as /tmp; otherwise it is only warned about, so that a data dir set to
/// a shared place (".", /var/lib) never changes it. Of the files directly in `dir`, only
/// `own_files` (symlinks not followed) owned by this process lose their group/other bits.
/// `key` names the config key in messages (e.g. "node.data_dir").
private_dir_result make_private_dir(const std::filesystem::path& dir, const std::string& key,
                                    const std::vector<std::string>& own_files);

/// The permission bits of `path` (stat, following symlinks) when they grant anything to group
/// or others; nullopt when they do not or the path cannot be stat'ed.
std::optional<unsigned> loose_mode(const std::filesystem::path& path);

/// `0644`-style octal text of permission bits.
std::string format_mode(unsigned mode);

}  // namespace herald::node
