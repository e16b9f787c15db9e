#include "cookie_file.h"

#include <sys/stat.h>

#include <fstream>

namespace plexus_node {

plexus::Status read_cookie_file(const std::string& path, std::string* cookie,
                                const std::string& flag) {
  auto bad = [&](const std::string& what) {
    return plexus::Status(plexus::StatusCode::kInvalidArgument, flag + ": " + what);
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return bad("cannot read '" + path + "'");
  if ((st.st_mode & 077) != 0) return bad("'" + path + "' may be read by others (chmod 600 it)");
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return bad("'" + path + "' is empty");
  size_t end = line.find_last_not_of(" \t\r");
  line.resize(end == std::string::npos ? 0 : end + 1);
  if (line.empty()) return bad("'" + path + "' is empty");
  *cookie = std::move(line);
  return plexus::Status::OK();
}

}  // namespace plexus_node
