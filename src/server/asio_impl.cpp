// The one translation unit that compiles Asio (with its SSL layer) and
// Beast: every other file includes their headers with
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION
// (set on huginn_server in CMakeLists.txt), so they parse declarations only.
// g++ 12 reports -Wnull-dereference inside Asio's scheduler after inlining
// (a path its own invariants exclude); the warning stays on everywhere else.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
