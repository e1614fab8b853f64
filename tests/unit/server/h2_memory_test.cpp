// H2Memory: a real nghttp2 server session on it gets its frame buffer and
// stream map on pages of their own; release_idle_pages() gives them back
// to the kernel (mincore) once nothing is left to send, and the session
// keeps answering correctly afterwards.
#include <nghttp2/nghttp2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "server/detail/h2_memory.hpp"

namespace huginn::server::detail {
namespace {

std::size_t page() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// Resident pages among the whole pages of a block.
std::size_t resident_pages(const H2Memory::Block& b) {
  const std::size_t n = b.size / page();
  if (n == 0) return 0;
  std::vector<unsigned char> vec(n);
  if (::mincore(b.ptr, n * page(), vec.data()) != 0) return n;
  std::size_t r = 0;
  for (unsigned char v : vec) r += v & 1u;
  return r;
}

const H2Memory::Block* frame_buffer(const H2Memory& m) {
  for (const auto& b : m.blocks()) {
    if (b.frame) return &b;
  }
  return nullptr;
}

nghttp2_nv nv(const char* name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), std::strlen(name),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

// The server answers every request with a body of `body_size` bytes; the
// client records what it receives.
struct Peer {
  nghttp2_session* session = nullptr;
  std::string body;        // server: what it sends; client: what it got
  std::size_t body_off = 0;
  std::vector<int> statuses;  // client: :status of each response
  std::size_t streams_closed = 0;
};

ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source* src, void*) {
  auto* p = static_cast<Peer*>(src->ptr);
  const std::size_t n = std::min(length, p->body.size() - p->body_off);
  std::memcpy(buf, p->body.data() + p->body_off, n);
  p->body_off += n;
  if (p->body_off == p->body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    p->body_off = 0;  // the next response sends it again
  }
  return static_cast<ssize_t>(n);
}

int server_on_frame(nghttp2_session* s, const nghttp2_frame* f, void* user) {
  if (f->hd.type != NGHTTP2_HEADERS || (f->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  auto* p = static_cast<Peer*>(user);
  static const std::string status = "200";
  const std::array<nghttp2_nv, 1> hdrs{nv(":status", status)};
  nghttp2_data_provider prd{};
  prd.source.ptr = p;
  prd.read_callback = &read_body;
  return nghttp2_submit_response(s, f->hd.stream_id, hdrs.data(), hdrs.size(), &prd);
}

int client_on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t* name,
                     std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                     std::uint8_t, void* user) {
  if (std::string_view(reinterpret_cast<const char*>(name), namelen) == ":status") {
    static_cast<Peer*>(user)->statuses.push_back(
        std::stoi(std::string(reinterpret_cast<const char*>(value), valuelen)));
  }
  return 0;
}

int client_on_data(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t* data,
                   std::size_t len, void* user) {
  static_cast<Peer*>(user)->body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int on_close(nghttp2_session*, std::int32_t, std::uint32_t, void* user) {
  ++static_cast<Peer*>(user)->streams_closed;
  return 0;
}

// Everything `from` has to send, into `to`; returns the bytes moved. With
// `mem`, as Http2Session::produce does: note_sent() per frame.
std::size_t pump(Peer& from, Peer& to, H2Memory* mem) {
  std::size_t moved = 0;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(from.session, &data);
    EXPECT_GE(n, 0);
    if (n <= 0) break;
    if (mem != nullptr) mem->note_sent();
    EXPECT_EQ(nghttp2_session_mem_recv(to.session, data, static_cast<std::size_t>(n)), n);
    moved += static_cast<std::size_t>(n);
  }
  return moved;
}

class H2MemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nghttp2_session_callbacks* cbs = nullptr;
    ASSERT_EQ(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &server_on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &on_close);
    // As Http2Session makes it: no closed streams kept in the map.
    nghttp2_option* opt = nullptr;
    ASSERT_EQ(nghttp2_option_new(&opt), 0);
    nghttp2_option_set_no_closed_streams(opt, 1);
    mem_.construction(true);
    const int rv = nghttp2_session_server_new3(&server_.session, cbs, &server_, opt, mem_.get());
    mem_.construction(false);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    ASSERT_EQ(rv, 0);
    ASSERT_EQ(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &client_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &client_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &on_close);
    ASSERT_EQ(nghttp2_session_client_new(&client_.session, cbs, &client_), 0);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(server_.session, NGHTTP2_FLAG_NONE, nullptr, 0);
    nghttp2_submit_settings(client_.session, NGHTTP2_FLAG_NONE, nullptr, 0);
    // Past one frame: the DATA frames fill the whole frame buffer.
    server_.body.assign(40000, '\0');
    for (std::size_t i = 0; i < server_.body.size(); ++i) {
      server_.body[i] = static_cast<char>('a' + i % 26);
    }
  }
  void TearDown() override {
    nghttp2_session_del(client_.session);
    nghttp2_session_del(server_.session);  // frees every block before mem_ goes
  }

  // One GET, answered in full; the server ends with nothing left to send.
  void exchange() {
    static const std::string method = "GET";
    static const std::string scheme = "http";
    static const std::string path = "/";
    static const std::string authority = "localhost";
    const std::array<nghttp2_nv, 4> req{nv(":method", method), nv(":scheme", scheme),
                                        nv(":path", path), nv(":authority", authority)};
    ASSERT_GT(nghttp2_submit_request(client_.session, nullptr, req.data(), req.size(), nullptr, nullptr),
              0);
    for (int round = 0; round < 20; ++round) {
      const std::size_t moved = pump(client_, server_, nullptr) + pump(server_, client_, &mem_);
      if (moved == 0) break;
    }
  }

  H2Memory mem_;
  Peer server_;
  Peer client_;
};

TEST_F(H2MemoryTest, FrameBufferAndStreamMapGetPagesOfTheirOwn) {
  const H2Memory::Block* fb = frame_buffer(mem_);
  ASSERT_NE(fb, nullptr);
  // nghttp2 1.52: NGHTTP2_FRAMEBUF_CHUNKLEN.
  EXPECT_EQ(fb->size, 16384u + 10u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(fb->ptr) % page(), 0u);
  if (page() == 4096) {
    // The stream map's table (256 buckets of 16 bytes).
    ASSERT_EQ(mem_.blocks().size(), 2u);
    EXPECT_FALSE(mem_.blocks()[0].frame && mem_.blocks()[1].frame);
  }
}

TEST_F(H2MemoryTest, IdleSessionHoldsNoPagesAndStillAnswersCorrectly) {
  exchange();
  ASSERT_EQ(client_.statuses, std::vector<int>{200});
  ASSERT_TRUE(client_.body == server_.body) << client_.body.size();
  const H2Memory::Block* fb = frame_buffer(mem_);
  ASSERT_NE(fb, nullptr);
  EXPECT_GT(resident_pages(*fb), 0u) << "40,000 bytes of DATA went through it";
  mem_.release_idle_pages();
  EXPECT_EQ(resident_pages(*fb), 0u);
  // The stream closed: the map's table is all zero again, and dropped.
  for (const auto& b : mem_.blocks()) EXPECT_EQ(resident_pages(b), 0u) << b.size;

  // The session goes on as if nothing happened, several times over.
  for (int i = 0; i < 3; ++i) {
    client_.body.clear();
    exchange();
    EXPECT_TRUE(client_.body == server_.body) << client_.body.size();
    mem_.release_idle_pages();
    EXPECT_EQ(resident_pages(*fb), 0u);
  }
  EXPECT_EQ(client_.statuses, (std::vector<int>{200, 200, 200, 200}));
  EXPECT_EQ(server_.streams_closed, 4u);
}

TEST_F(H2MemoryTest, MapPagesInUseAreKept) {
  // A request whose answer is not sent yet keeps its stream in the map:
  // that page is not all zero and must stay.
  static const std::string get = "GET";
  static const std::string http = "http";
  static const std::string root = "/";
  static const std::string host = "localhost";
  const std::array<nghttp2_nv, 4> req{nv(":method", get), nv(":scheme", http), nv(":path", root),
                                      nv(":authority", host)};
  ASSERT_GT(nghttp2_submit_request(client_.session, nullptr, req.data(), req.size(), nullptr, nullptr), 0);
  pump(client_, server_, nullptr);
  ASSERT_NE(nghttp2_session_find_stream(server_.session, 1), nullptr);
  mem_.note_sent();
  mem_.release_idle_pages();
  std::size_t kept = 0;
  for (const auto& b : mem_.blocks()) {
    if (!b.frame) kept += resident_pages(b);
  }
  if (page() == 4096) {
    EXPECT_EQ(kept, 1u);
  }
  // The stream is still found, and its answer arrives whole.
  pump(server_, client_, &mem_);
  EXPECT_EQ(client_.statuses, std::vector<int>{200});
  EXPECT_TRUE(client_.body == server_.body) << client_.body.size();
}

TEST_F(H2MemoryTest, NothingSentSinceTheLastReleaseCostsNothing) {
  exchange();
  mem_.release_idle_pages();
  const H2Memory::Block* fb = frame_buffer(mem_);
  ASSERT_NE(fb, nullptr);
  // Touch the buffer behind nghttp2's back: without note_sent() no release
  // runs, so the page stays (this is how the test sees that none ran).
  static_cast<volatile char*>(fb->ptr)[0] = 1;
  mem_.release_idle_pages();
  EXPECT_EQ(resident_pages(*fb), 1u);
  mem_.note_sent();
  mem_.release_idle_pages();
  EXPECT_EQ(resident_pages(*fb), 0u);
}

}  // namespace
}  // namespace huginn::server::detail
