#include "huginn/capture/pcap_source.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "capture/detail/mapped_file.hpp"
#include "huginn/capture/pcap_file_reader.hpp"
#include "huginn/packet/link_type.hpp"

namespace huginn::capture {

// packet/ names the link types it decodes without including <pcap.h>;
// these must be the values this libpcap returns from pcap_datalink().
static_assert(packet::dlt::kNull == DLT_NULL);
static_assert(packet::dlt::kEn10mb == DLT_EN10MB);
static_assert(packet::dlt::kRaw == DLT_RAW);
static_assert(packet::dlt::kLoop == DLT_LOOP);
static_assert(packet::dlt::kLinuxSll == DLT_LINUX_SLL);
static_assert(packet::dlt::kLinuxSll2 == DLT_LINUX_SLL2);
static_assert(packet::dlt::kIpv4 == DLT_IPV4);
static_assert(packet::dlt::kIpv6 == DLT_IPV6);

namespace detail {

// A classic pcap file walked in memory. `reader` points into `file`, so
// `file` is declared first and outlives it.
struct MappedPcap {
  std::unique_ptr<MappedFile> file;
  PcapFileReader reader;
  bool has_filter = false;
  bpf_program filter{};  // owned when has_filter

  MappedPcap(std::unique_ptr<MappedFile> f, PcapFileReader r)
      : file(std::move(f)), reader(std::move(r)) {}
  ~MappedPcap() { clear_filter(); }
  MappedPcap(const MappedPcap&) = delete;
  MappedPcap& operator=(const MappedPcap&) = delete;

  void clear_filter() {
    if (has_filter) pcap_freecode(&filter);
    has_filter = false;
  }
};

}  // namespace detail

namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// One message per pcap_activate() failure, naming the interface; libpcap's
// own text is appended when it has any, since it often says which syscall
// failed.
std::string activate_error(int status, const std::string& iface, pcap_t* p) {
  std::string detail = pcap_geterr(p);
  std::string msg;
  switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      msg = "no such capture interface " + quoted(iface);
      break;
    case PCAP_ERROR_PERM_DENIED:
      msg = "permission denied capturing on " + quoted(iface) +
            " (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)";
      break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      msg = "permission denied enabling promiscuous mode on " + quoted(iface);
      break;
    case PCAP_ERROR_IFACE_NOT_UP:
      msg = "capture interface " + quoted(iface) + " is not up";
      break;
    case PCAP_ERROR_RFMON_NOTSUP:
      msg = "capture interface " + quoted(iface) + " does not support monitor mode";
      break;
    default:
      msg = "cannot capture on " + quoted(iface);
      break;
  }
  if (!detail.empty()) msg += ": " + detail;
  return msg;
}

std::string activate_warning(int status, const std::string& iface, pcap_t* p) {
  switch (status) {
    case PCAP_WARNING_PROMISC_NOTSUP:
      return "capture interface " + quoted(iface) +
             " does not support promiscuous mode; capturing without it";
    case PCAP_WARNING_TSTAMP_TYPE_NOTSUP:
      return "capture interface " + quoted(iface) +
             " does not support the requested timestamp type; using the default";
    default:
      return "warning capturing on " + quoted(iface) + ": " + pcap_geterr(p);
  }
}

}  // namespace

PcapSource::PcapSource(pcap* handle, bool live, std::string name)
    : handle_(handle), live_(live), name_(std::move(name)) {}

PcapSource::PcapSource(pcap* handle, std::unique_ptr<detail::MappedPcap> mapped,
                       std::string name)
    : handle_(handle), mapped_(std::move(mapped)), live_(false), name_(std::move(name)) {}

PcapSource::~PcapSource() {
  mapped_.reset();  // frees the filter program before its handle closes
  if (handle_ != nullptr) pcap_close(handle_);
}

OpenResult PcapSource::open_live(const LiveOptions& opts) {
  OpenResult r;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_create(opts.interface.c_str(), errbuf);
  if (p == nullptr) {
    r.error = "cannot capture on " + quoted(opts.interface) + ": " + errbuf;
    return r;
  }
  // The setters only fail on an already-activated handle; check anyway so
  // that a libpcap change cannot go unnoticed.
  if (pcap_set_snaplen(p, opts.snaplen) != 0 || pcap_set_promisc(p, opts.promiscuous ? 1 : 0) != 0 ||
      pcap_set_timeout(p, opts.timeout_ms) != 0 ||
      pcap_set_buffer_size(p, opts.buffer_bytes) != 0 ||
      pcap_set_immediate_mode(p, opts.immediate ? 1 : 0) != 0 ||
      pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
    r.error = "cannot configure capture on " + quoted(opts.interface) + ": " + pcap_geterr(p);
    pcap_close(p);
    return r;
  }
  const int status = pcap_activate(p);
  if (status < 0) {
    r.error = activate_error(status, opts.interface, p);
    pcap_close(p);
    return r;
  }
  if (status > 0) r.warning = activate_warning(status, opts.interface, p);
  r.source.reset(new PcapSource(p, true, opts.interface));
  return r;
}

OpenResult PcapSource::open_file(const std::string& path) {
  OpenResult r;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // libpcap opens every file first: it words every open error, and its
  // handle compiles filters in the file's own context (a savefile's BSD
  // loopback header is matched against every BSD AF_INET6 value, and in
  // the writer's byte order, which a pcap_open_dead handle would not do).
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (p == nullptr) {
    // libpcap often starts its message with the path; say it only once.
    std::string detail = errbuf;
    if (detail.rfind(path + ": ", 0) == 0) detail.erase(0, path.size() + 2);
    r.error = "cannot read capture file " + quoted(path) + ": " + detail;
    return r;
  }
  // Then the records are read in memory when the reader takes the file;
  // any refusal (not a regular file, pcapng, another version or link type)
  // leaves the reading to libpcap. The reader's header must agree with
  // libpcap's; a disagreement would be our bug, and libpcap wins.
  if (auto file = detail::MappedFile::map(path)) {
    auto reader = PcapFileReader::open(file->bytes());
    if (reader && reader->datalink() == pcap_datalink(p) &&
        static_cast<int>(reader->snaplen()) == pcap_snapshot(p)) {
      auto mapped = std::make_unique<detail::MappedPcap>(std::move(file), std::move(*reader));
      r.source.reset(new PcapSource(p, std::move(mapped), path));
      return r;
    }
  }
  r.source.reset(new PcapSource(p, false, path));
  return r;
}

std::optional<std::string> PcapSource::set_filter(const std::string& expression) {
  bpf_program prog{};
  if (pcap_compile(handle_, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return "invalid BPF filter " + quoted(expression) + ": " + pcap_geterr(handle_);
  }
  if (mapped_) {  // run per frame by next(), as libpcap does for files
    mapped_->clear_filter();
    mapped_->filter = prog;
    mapped_->has_filter = true;
    return std::nullopt;
  }
  const int rc = pcap_setfilter(handle_, &prog);
  pcap_freecode(&prog);
  if (rc != 0) {
    return "cannot install BPF filter " + quoted(expression) + " on " + quoted(name_) + ": " +
           pcap_geterr(handle_);
  }
  return std::nullopt;
}

int PcapSource::datalink() const { return pcap_datalink(handle_); }

ReadStatus PcapSource::next(RawFrame& frame) {
  if (mapped_) {
    if (break_mapped_.load(std::memory_order_relaxed) &&
        break_mapped_.exchange(false, std::memory_order_acq_rel)) {
      return ReadStatus::kEnd;
    }
    PcapFileReader& reader = mapped_->reader;
    for (;;) {
      const ReadStatus st = reader.next(frame);
      if (st != ReadStatus::kPacket) {
        if (st == ReadStatus::kError) error_ = reader.error();
        return st;
      }
      // Earlier frames are invalid from here on (RawFrame's contract).
      mapped_->file->advance(
          static_cast<std::size_t>(frame.data.data() - mapped_->file->bytes().data()));
      if (!mapped_->has_filter) return st;
      // libpcap filters a file's frames on its caplen (cut to the snaplen)
      // and the wire length; the ts field is not read by BPF.
      pcap_pkthdr hdr{};
      hdr.caplen = reader.last_caplen();
      hdr.len = frame.wire_len;
      if (pcap_offline_filter(&mapped_->filter, &hdr, frame.data.data()) != 0) return st;
    }
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 1) {
    frame.ts_us = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000 + hdr->ts.tv_usec;
    frame.wire_len = hdr->len;
    frame.data = {data, std::min(hdr->caplen, hdr->len)};
    return ReadStatus::kPacket;
  }
  if (rc == 0) return ReadStatus::kTimeout;
  // PCAP_ERROR_BREAK: end of a file, or pcap_breakloop() on a live handle.
  if (rc == PCAP_ERROR_BREAK) return ReadStatus::kEnd;
  error_ = pcap_geterr(handle_);
  return ReadStatus::kError;
}

void PcapSource::break_loop() {
  if (mapped_) {
    break_mapped_.store(true, std::memory_order_release);
    return;
  }
  pcap_breakloop(handle_);
}

std::optional<KernelStats> PcapSource::kernel_stats() const {
  if (!live_) return std::nullopt;
  pcap_stat s{};
  if (pcap_stats(handle_, &s) != 0) return std::nullopt;
  return KernelStats{s.ps_recv, s.ps_drop, s.ps_ifdrop};
}

}  // namespace huginn::capture
