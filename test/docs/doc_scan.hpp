// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the documentation-reference tests read: the repository's text files, the part of each
// that can cite a document (all of a markdown or C-family file, the comments of shell and
// CMake files), the headings of markdown files and their GitHub anchors, and the references
// to markdown files found in a text. Pure functions over strings and the file system; used
// on the test's thread only.
// Invariant: a reference is reported with the 1-based line it starts on, and a heading's
// anchor is the one GitHub renders for it (ASCII letters, digits, `-` and `_` kept; spaces
// become `-`; any other character, non-ASCII included, dropped; duplicates get -1, -2, ...).

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace herald::doc_test {

namespace fs = std::filesystem;

/// One file the tests check, with the text in which citations are looked for.
struct scanned_file {
  std::string rel;   ///< path relative to the repository root, '/'-separated
  std::string text;  ///< the citable text (see citable_text)
  bool markdown = false;
};

/// How a file's citations are found.
enum class file_kind {
  markdown,      ///< the whole text
  c_family,      ///< the whole text: comments and string literals (test names) alike
  hash_comment,  ///< only the comments (`#` to the end of the line): shell, CMake, YAML
  skipped,
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// The top-level folders whose sources are checked (besides *.md and *.sh everywhere). The
/// fuzz corpora are data, not sources: their files have no checked extension.
inline bool in_source_tree(const std::string& rel) {
  for (const char* top : {"actors/", "runtime/", "tools/", "examples/", "test/", "proto/", "cmake/",
                          "docs/", "fuzz/"}) {
    if (rel.rfind(top, 0) == 0) {
      return true;
    }
  }
  return false;
}

inline file_kind kind_of(const std::string& rel) {
  const fs::path p{rel};
  const std::string ext = p.extension().string();
  const std::string name = p.filename().string();
  if (ext == ".md") {
    return file_kind::markdown;
  }
  if (ext == ".sh" || rel == ".clang-format" || rel == ".ci/run" || rel == "CMakeLists.txt") {
    return file_kind::hash_comment;
  }
  if (!in_source_tree(rel)) {
    return file_kind::skipped;
  }
  if (ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".inc" || ext == ".proto" ||
      ext == ".js") {
    return file_kind::c_family;
  }
  if (ext == ".cmake" || name == "CMakeLists.txt" || ext == ".supp") {
    return file_kind::hash_comment;
  }
  return file_kind::skipped;
}

/// Keeps, line by line, the text from the first `#` that starts a comment (at the start of
/// the line or after a blank), blanking the code before it, so line numbers stay valid.
inline std::string hash_comments(const std::string& text) {
  std::string out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        out.append(line, i, std::string::npos);
        break;
      }
    }
    out.push_back('\n');
  }
  return out;
}

/// Directories never scanned: build trees, VCS data, installed packages, run-time state.
inline bool skipped_dir(const std::string& name) {
  return name.rfind("build", 0) == 0 || name == "node_modules" || name == "var" || name == "out" ||
         (name.size() > 1 && name[0] == '.' && name != ".ci");
}

/// Every checked file under `root`, in path order.
inline std::vector<scanned_file> scan_repository(const fs::path& root) {
  std::vector<scanned_file> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const auto name = it->path().filename().string();
    if (it->is_directory()) {
      if (skipped_dir(name)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file()) {
      continue;
    }
    scanned_file f;
    f.rel = fs::relative(it->path(), root).generic_string();
    const auto kind = kind_of(f.rel);
    if (kind == file_kind::skipped) {
      continue;
    }
    f.text = read_text(it->path());
    f.markdown = kind == file_kind::markdown;
    if (kind == file_kind::hash_comment) {
      f.text = hash_comments(f.text);
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const scanned_file& a, const scanned_file& b) { return a.rel < b.rel; });
  return out;
}

// -- markdown headings -------------------------------------------------------------------

/// GitHub's anchor of one heading text (before duplicate numbering).
inline std::string slug_of(const std::string& heading) {
  std::string out;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (c == ' ') {
      out.push_back('-');
    }
  }
  return out;
}

struct heading_index {
  std::set<std::string> texts;    ///< heading texts as written (trimmed, no leading #s)
  std::set<std::string> anchors;  ///< their anchors, duplicates numbered
};

/// The ATX headings (`#` … `######`) of a markdown text, outside fenced code blocks.
inline heading_index headings_of(const std::string& md) {
  heading_index out;
  std::map<std::string, int> seen;
  std::istringstream in{md};
  bool fenced = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
      continue;
    }
    if (fenced || line.empty() || line[0] != '#') {
      continue;
    }
    size_t level = line.find_first_not_of('#');
    if (level == std::string::npos || level > 6 || line[level] != ' ') {
      continue;
    }
    std::string text = line.substr(level + 1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '#' || text.back() == '\r')) {
      text.pop_back();
    }
    out.texts.insert(text);
    std::string slug = slug_of(text);
    int n = seen[slug]++;
    out.anchors.insert(n == 0 ? slug : slug + "-" + std::to_string(n));
  }
  return out;
}

// -- references ----------------------------------------------------------------------------

/// One citation of a markdown file found in a text.
struct md_reference {
  size_t line = 0;
  std::string target;   ///< as written, e.g. "docs/gateway.md" or "networking.md"
  std::string anchor;   ///< after '#', empty if none
  std::string section;  ///< a quoted heading after it (`, "Heading"` / `section "Heading"`)
  bool link = false;    ///< a markdown link target `](…)`, resolved from the file's folder
  std::string after;    ///< up to 40 characters following the citation
};

/// Every citation of a `*.md` file in `text`, plus same-file anchors `](#x)` of markdown
/// (target empty). URLs (`scheme://…`) are not citations of repository files.
inline std::vector<md_reference> references_in(const std::string& text) {
  static const std::regex md_name{
      "([A-Za-z0-9_./-]*[A-Za-z0-9_]\\.md)(#[A-Za-z0-9_-]+)?(?![A-Za-z0-9])"};
  static const std::regex section{"^[`)]?(?:,\\s*section\\s+|,\\s*|\\s+section\\s+)\"([^\"]+)\""};
  static const std::regex local_anchor{"\\]\\(#([A-Za-z0-9_-]+)\\)"};
  std::vector<md_reference> out;
  std::istringstream in{text};
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), md_name);
         it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      const size_t start = static_cast<size_t>(m.position(0));
      size_t token = start;
      while (token > 0 && line[token - 1] != ' ' && line[token - 1] != '(' &&
             line[token - 1] != '"' && line[token - 1] != '`' && line[token - 1] != '<') {
        --token;
      }
      const size_t end = start + static_cast<size_t>(m.length(0));
      if (line.substr(token, end - token).find("://") != std::string::npos) {
        continue;
      }
      md_reference r;
      r.line = line_no;
      r.target = m.str(1);
      r.anchor = m[2].matched ? m.str(2).substr(1) : std::string{};
      r.link = start >= 2 && line.compare(start - 2, 2, "](") == 0;
      const std::string rest = line.substr(end);
      r.after = rest.substr(0, 40);
      std::smatch s;
      if (std::regex_search(rest, s, section)) {
        r.section = s.str(1);
      }
      out.push_back(std::move(r));
    }
    for (auto it = std::sregex_iterator(line.begin(), line.end(), local_anchor);
         it != std::sregex_iterator(); ++it) {
      md_reference r;
      r.line = line_no;
      r.anchor = (*it).str(1);
      r.link = true;
      out.push_back(std::move(r));
    }
  }
  return out;
}

/// The repository file a citation in `from` (a path relative to `root`) names: relative to
/// the citing file's folder, else (not for links) to the root, else to docs/. Nullopt when
/// none exists or the path leaves the repository.
inline std::optional<std::string> resolve(const fs::path& root, const std::string& from,
                                          const md_reference& r) {
  std::vector<fs::path> candidates{fs::path{from}.parent_path() / r.target};
  if (!r.link) {
    std::string t = r.target;
    while (!t.empty() && (t[0] == '/' || t.rfind("./", 0) == 0)) {
      t.erase(0, t[0] == '/' ? 1 : 2);
    }
    candidates.emplace_back(t);
    candidates.emplace_back(fs::path{"docs"} / t);
  }
  for (const auto& c : candidates) {
    const auto rel = c.lexically_normal().generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0) {
      continue;  // outside the repository
    }
    if (fs::is_regular_file(root / rel)) {
      return rel;
    }
  }
  return std::nullopt;
}

/// Citations that point out of the repository: the parent's shared folder, or the
/// upper-case contract files that only exist there.
inline std::optional<std::string> outside_reference(const std::string& line) {
  static const std::vector<std::string> names{
      std::string{"../"} + "shared", std::string{"/work/"} + "shared",
      std::string{"ARCHITECTURE"} + ".md", std::string{"CONVENTIONS"} + ".md",
      std::string{"GATEWAY"} + ".md"};
  for (const auto& n : names) {
    if (line.find(n) != std::string::npos) {
      return n;
    }
  }
  return std::nullopt;
}

/// Backticked `path/to/file.ext` tokens of a markdown text whose first folder is one of the
/// repository's top-level folders, with the line they are on.
inline std::vector<std::pair<size_t, std::string>> repo_paths_in(const std::string& md) {
  static const std::regex path{
      "`((?:actors|runtime|tools|examples|test|proto|cmake|docs|fuzz)/[A-Za-z0-9_./"
      "-]+\\.(?:cpp|hpp|"
      "h|inc|md|sh|proto|txt|cmake|js))`"};
  std::vector<std::pair<size_t, std::string>> out;
  std::istringstream in{md};
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), path);
         it != std::sregex_iterator(); ++it) {
      out.emplace_back(line_no, (*it).str(1));
    }
  }
  return out;
}

/// Backticked function names `name()` or `scope::name()` on a line (the last component).
inline std::vector<std::string> functions_in(const std::string& line) {
  static const std::regex fn{"`(?:[A-Za-z_][A-Za-z0-9_]*::)*([A-Za-z_][A-Za-z0-9_]*)\\(\\)`"};
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), fn); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it).str(1));
  }
  return out;
}

/// True when `text` holds `word` delimited by non-identifier characters.
inline bool contains_word(const std::string& text, const std::string& word) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    bool left = at == 0 || !ident(text[at - 1]);
    bool right = at + word.size() >= text.size() || !ident(text[at + word.size()]);
    if (left && right) {
      return true;
    }
  }
  return false;
}

}  // namespace herald::doc_test
