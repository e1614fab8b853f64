#pragma once
// The nghttp2_mem of one HTTP/2 session (nghttp2_session_server_new3):
// every allocation goes to the C heap as nghttp2's default does, except
// two blocks made with the session, its outbound frame buffer and its
// stream map's table, which get pages of their own that an idle
// connection hands back to the kernel (issue 5: memory per idle
// connection; with both, 3,000 idle h2c connections went from 18.7 to
// 8.5 KB of server RSS each, TLS h2 from 41.7 to 24.2 KB).
//
// Why: nghttp2 1.52 allocates, in nghttp2_session_server_new*, one frame
// buffer of NGHTTP2_FRAMEBUF_CHUNKLEN (16,384 + 10) bytes per session
// (aob.framebufs, chunk_keep 1) and keeps it for the session's life. Every
// frame is packed into it, so once a session has sent a few frames the
// pages it wrote stay resident, and on the shared heap the pages around it
// are touched by its neighbours: several KiB per idle connection.
//
// What makes dropping its pages safe (nghttp2 1.52, nghttp2_session.c):
// each frame is packed from the start of the buffer after
// active_outbound_item_reset() -> nghttp2_bufs_reset(), and nothing reads
// a byte of it that the current frame did not write. When
// nghttp2_session_mem_send() returns 0 the outbound item was reset
// (NGHTTP2_OB_POP_ITEM with nothing queued, or a DATA item deferred and
// reset): the buffer holds no byte nghttp2 will read. It can also return 0
// with an item active for NGHTTP2_ERR_PAUSE / NGHTTP2_ERR_WOULDBLOCK,
// which only data sources or send_data_callback return; Http2Session uses
// neither. So after a mem_send() that returned 0, release_idle_pages() may
// zero the buffer's pages (MADV_DONTNEED: the next frame faults in fresh
// zero pages).
//
// Which block is the frame buffer: the only allocation of at least
// kFrameMin bytes made while construction() is on, i.e. inside
// nghttp2_session_server_new3 (the other blocks made there are the session
// struct, about 3 KiB, the stream map's table, 4 KiB, and the HPACK ring
// buffers, 1 KiB each). Larger blocks nghttp2 allocates later (more frame
// chunks for a header block past 16 KiB, freed at the next reset; the
// HPACK inflater's buffers, which may hold a header field across reads)
// come from the heap and are never touched here.
//
// The stream map's table (nghttp2_map, 256 buckets of 16 bytes) is also
// given pages of its own, for another reason: nghttp2_map_remove() zeroes
// every bucket it empties, so the table of a map with no stream is all
// zero, as calloc made it. release_idle_pages() drops a page of such a
// block only if every byte of it is zero: the page then reads the same
// before and after, whatever nghttp2 keeps in it, and one stream opening
// faults it back in. Any block of at least a page made during construction
// other than the frame buffer is treated so.
//
// Not thread-safe: one session, on its connection's strand.
#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <span>

namespace huginn::server::detail {

class H2Memory {
 public:
  // A block this large made during construction is the frame buffer.
  static constexpr std::size_t kFrameMin = 8 * 1024;
  // At most this many blocks get pages of their own.
  static constexpr std::size_t kMaxPaged = 4;

  H2Memory();
  ~H2Memory();
  H2Memory(const H2Memory&) = delete;
  H2Memory& operator=(const H2Memory&) = delete;

  // For nghttp2_session_server_new3; valid as long as this object, which
  // must outlive the session.
  [[nodiscard]] nghttp2_mem* get() { return &mem_; }
  // On around nghttp2_session_server_new3 only.
  void construction(bool on) { constructing_ = on; }
  // nghttp2_session_mem_send() returned a frame.
  void note_sent() { dirty_ = true; }
  // After nghttp2_session_mem_send() returned 0 (see above): the frame
  // buffer's whole pages, and the all-zero whole pages of the other paged
  // blocks, go back to the kernel. Does nothing unless note_sent() came
  // since the last call.
  void release_idle_pages();
  struct Block {
    void* ptr = nullptr;   // page-aligned, from the heap
    std::size_t size = 0;  // as asked by nghttp2
    bool frame = false;    // the frame buffer: dropped whatever it holds
  };
  // The blocks with pages of their own (tests).
  [[nodiscard]] std::span<const Block> blocks() const { return {paged_, paged_count_}; }

 private:
  [[nodiscard]] bool has_frame_buffer() const;

  static void* do_malloc(std::size_t size, void* self);
  static void do_free(void* ptr, void* self);
  static void* do_calloc(std::size_t n, std::size_t size, void* self);
  static void* do_realloc(void* ptr, std::size_t size, void* self);
  void* allocate(std::size_t size);
  Block* find(const void* ptr);

  nghttp2_mem mem_{};
  Block paged_[kMaxPaged];
  std::size_t paged_count_ = 0;
  bool constructing_ = false;
  bool dirty_ = false;  // note_sent() since the last release
};

}  // namespace huginn::server::detail
