#include "tracer/output.hpp"

#include <cerrno>
#include <system_error>

namespace hytrace::tracer {

Output::Output(const std::string& path) : file_(stderr), live_(true) {
  if (path.empty() || path == "-") return;
  file_ = fopen(path.c_str(), "we");
  if (!file_) throw std::system_error(errno, std::generic_category(), "cannot open '" + path + "'");
  live_ = false;
  setvbuf(file_, nullptr, _IOFBF, 1 << 16);
}

Output::~Output() {
  if (file_ != stderr) fclose(file_);
  else fflush(stderr);
}

}  // namespace hytrace::tracer
