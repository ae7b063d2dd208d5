#include "audio/wav.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "audio/g711.h"

namespace artagent::audio {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatFloat = 3;
constexpr uint16_t kFormatAlaw = 6;
constexpr uint16_t kFormatMulaw = 7;
constexpr uint16_t kFormatExtensible = 0xFFFE;

constexpr size_t kRiffHeaderBytes = 12;  // "RIFF", size, "WAVE"
constexpr size_t kChunkHeaderBytes = 8;  // id, size
constexpr size_t kFmtBytes = 16;
constexpr size_t kFmtExtensibleBytes = 40;
constexpr size_t kCanonicalHeaderBytes = 44;

// Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID derived from a WAVE format tag; the tag itself
// is in bytes 0..1.
constexpr uint8_t kSubformatGuidTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
bool IdIs(const uint8_t* p, std::string_view id) { return std::memcmp(p, id.data(), 4) == 0; }

// A chunk id for an error message, with anything unprintable escaped.
std::string PrintableId(const uint8_t* p) {
  std::string out = "'";
  for (int i = 0; i < 4; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7F) {
      out += static_cast<char>(p[i]);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", p[i]);
      out += hex;
    }
  }
  return out + "'";
}

core::Status Invalid(std::string message) {
  return core::InvalidArgumentError("WAV: " + std::move(message));
}

struct Format {
  uint16_t tag = 0;  // after resolving WAVE_FORMAT_EXTENSIBLE
  int channels = 0;
  int sample_rate = 0;
  int bits = 0;
};

core::Result<Format> ParseFmt(std::span<const uint8_t> body) {
  if (body.size() < kFmtBytes) {
    return Invalid("'fmt ' chunk is " + std::to_string(body.size()) + " bytes, needs at least " +
                   std::to_string(kFmtBytes));
  }
  const uint8_t* p = body.data();
  Format f;
  f.tag = U16(p);
  f.channels = U16(p + 2);
  const uint32_t rate = U32(p + 4);
  f.bits = U16(p + 14);
  if (f.tag == kFormatExtensible) {
    if (body.size() < kFmtExtensibleBytes) {
      return Invalid("WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is " + std::to_string(body.size()) +
                     " bytes, needs " + std::to_string(kFmtExtensibleBytes));
    }
    if (std::memcmp(p + 26, kSubformatGuidTail, sizeof(kSubformatGuidTail)) != 0) {
      return Invalid("WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID is not supported");
    }
    f.tag = U16(p + 24);
  }
  if (f.channels < 1 || f.channels > kMaxWavChannels) {
    return Invalid(std::to_string(f.channels) + " channels; supported: 1.." +
                   std::to_string(kMaxWavChannels));
  }
  if (rate == 0 || rate > static_cast<uint32_t>(kMaxWavSampleRate)) {
    return Invalid("sample rate " + std::to_string(rate) + " Hz; supported: 1.." +
                   std::to_string(kMaxWavSampleRate));
  }
  f.sample_rate = static_cast<int>(rate);
  switch (f.tag) {
    case kFormatPcm:
      if (f.bits != 8 && f.bits != 16) {
        return Invalid(std::to_string(f.bits) +
                       "-bit PCM is not supported (8 or 16 bits); convert it, e.g. "
                       "`sox in.wav -b 16 out.wav`");
      }
      return f;
    case kFormatAlaw:
    case kFormatMulaw:
      if (f.bits != 8) {
        return Invalid(std::string(f.tag == kFormatAlaw ? "A-law" : "mu-law") +
                       " needs 8 bits per sample, the header says " + std::to_string(f.bits));
      }
      return f;
    case kFormatFloat:
      return Invalid(
          "IEEE float samples (format 3) are not supported; convert to 16-bit PCM, e.g. "
          "`sox in.wav -b 16 -e signed-integer out.wav`");
    default: {
      char tag[8];
      std::snprintf(tag, sizeof(tag), "0x%04X", f.tag);
      return Invalid(std::string("unsupported format tag ") + tag +
                     " (supported: PCM 1, A-law 6, mu-law 7, and extensible with those)");
    }
  }
}

void DecodeData(const Format& f, std::span<const uint8_t> data, Samples* out) {
  const size_t frame_bytes = static_cast<size_t>(f.channels) * static_cast<size_t>(f.bits / 8);
  data = data.first(data.size() / frame_bytes * frame_bytes);
  switch (f.tag) {
    case kFormatPcm:
      if (f.bits == 16) {
        BytesToSamples(data, out);
      } else {
        const size_t base = out->size();
        out->resize(base + data.size());
        for (size_t i = 0; i < data.size(); ++i) {
          (*out)[base + i] = static_cast<int16_t>((data[i] - 128) * 256);  // 8-bit is unsigned
        }
      }
      break;
    case kFormatAlaw:
      AlawDecode(data, out);
      break;
    case kFormatMulaw:
      MulawDecode(data, out);
      break;
  }
}

core::Status IoError(int err, std::string_view what, const std::string& path) {
  std::string message = std::string(what) + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return core::NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return core::PermissionDeniedError(std::move(message));
    default:
      return core::UnavailableError(std::move(message));
  }
}

void PutU16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void PutU32(uint8_t* p, uint32_t v) {
  PutU16(p, v & 0xFFFF);
  PutU16(p + 2, v >> 16);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

core::Result<WavAudio> ParseWav(std::span<const uint8_t> bytes) {
  if (bytes.size() < kRiffHeaderBytes) {
    return Invalid("truncated header: " + std::to_string(bytes.size()) +
                   " bytes, a WAV file starts with a 12-byte RIFF header");
  }
  if (!IdIs(bytes.data(), "RIFF")) {
    if (IdIs(bytes.data(), "RIFX") || IdIs(bytes.data(), "RF64")) {
      return Invalid(PrintableId(bytes.data()) +
                     " files are not supported, only little-endian RIFF");
    }
    return Invalid("not a RIFF file (starts with " + PrintableId(bytes.data()) + ")");
  }
  if (!IdIs(bytes.data() + 8, "WAVE")) {
    return Invalid("RIFF file of type " + PrintableId(bytes.data() + 8) + ", not 'WAVE'");
  }
  std::optional<Format> format;
  size_t pos = kRiffHeaderBytes;
  while (bytes.size() - pos >= kChunkHeaderBytes) {
    const uint8_t* header = bytes.data() + pos;
    const size_t declared = U32(header + 4);
    const size_t body_start = pos + kChunkHeaderBytes;
    const size_t available = bytes.size() - body_start;
    if (IdIs(header, "data")) {
      if (!format.has_value()) {
        return Invalid("'data' chunk comes before the 'fmt ' chunk");
      }
      WavAudio audio;
      audio.sample_rate = format->sample_rate;
      audio.channels = format->channels;
      DecodeData(*format, bytes.subspan(body_start, std::min(declared, available)), &audio.samples);
      return audio;
    }
    if (IdIs(header, "fmt ") && !format.has_value()) {
      if (declared > available) {
        return Invalid("truncated 'fmt ' chunk: declares " + std::to_string(declared) + " bytes, " +
                       std::to_string(available) + " present");
      }
      ARTAGENT_ASSIGN_OR_RETURN(format, ParseFmt(bytes.subspan(body_start, declared)));
    }
    // Chunks are padded to an even size. A chunk running past the end ends the walk.
    const size_t padded = declared + (declared & 1);
    if (padded > available) {
      break;
    }
    pos = body_start + padded;
  }
  if (!format.has_value()) {
    return Invalid("no 'fmt ' chunk (truncated header?)");
  }
  return Invalid("no 'data' chunk");
}

core::Result<WavAudio> ReadWavFile(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return IoError(errno, "cannot open", path);
  }
  // Read in blocks rather than trusting the file size, so pipes work too.
  std::vector<uint8_t> bytes;
  constexpr size_t kBlock = 64 * 1024;
  while (true) {
    const size_t base = bytes.size();
    bytes.resize(base + kBlock);
    const size_t got = std::fread(bytes.data() + base, 1, kBlock, file.get());
    bytes.resize(base + got);
    if (got < kBlock) {
      break;
    }
  }
  if (std::ferror(file.get())) {
    return IoError(errno, "cannot read", path);
  }
  core::Result<WavAudio> audio = ParseWav(bytes);
  if (!audio.ok()) {
    return audio.status().WithContext(path);
  }
  return audio;
}

std::vector<uint8_t> EncodeWav(const WavAudio& audio) {
  const uint32_t channels = static_cast<uint32_t>(std::max(audio.channels, 1));
  const uint32_t rate = static_cast<uint32_t>(std::max(audio.sample_rate, 1));
  const uint32_t block_align = channels * 2;
  constexpr size_t kMaxDataBytes = 0xFFFFFFFFu - (kCanonicalHeaderBytes - 8);
  size_t data_bytes = audio.samples.size() * 2;
  if (data_bytes > kMaxDataBytes) {
    data_bytes = kMaxDataBytes / block_align * block_align;
  }
  std::vector<uint8_t> out(kCanonicalHeaderBytes);
  uint8_t* h = out.data();
  std::memcpy(h, "RIFF", 4);
  PutU32(h + 4, static_cast<uint32_t>(kCanonicalHeaderBytes - 8 + data_bytes));
  std::memcpy(h + 8, "WAVEfmt ", 8);
  PutU32(h + 16, kFmtBytes);
  PutU16(h + 20, kFormatPcm);
  PutU16(h + 22, channels);
  PutU32(h + 24, rate);
  PutU32(h + 28, rate * block_align);
  PutU16(h + 32, block_align);
  PutU16(h + 34, 16);
  std::memcpy(h + 36, "data", 4);
  PutU32(h + 40, static_cast<uint32_t>(data_bytes));
  out.reserve(kCanonicalHeaderBytes + data_bytes);
  SamplesToBytes(std::span<const int16_t>(audio.samples).first(data_bytes / 2), &out);
  return out;
}

core::Status WriteWavFile(const std::string& path, const WavAudio& audio) {
  const std::vector<uint8_t> bytes = EncodeWav(audio);
  File file(std::fopen(path.c_str(), "wb"));
  if (file == nullptr) {
    return IoError(errno, "cannot create", path);
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
    return IoError(errno, "cannot write", path);
  }
  // fclose flushes; a full disk may only show up here.
  if (std::fclose(file.release()) != 0) {
    return IoError(errno, "cannot write", path);
  }
  return core::OkStatus();
}

Samples DownmixToMono(const WavAudio& audio) {
  if (audio.channels <= 1) {
    return audio.samples;
  }
  const size_t channels = static_cast<size_t>(audio.channels);
  const size_t frames = audio.samples.size() / channels;
  Samples mono(frames);
  const int64_t half = static_cast<int64_t>(channels / 2);
  for (size_t i = 0; i < frames; ++i) {
    int64_t sum = 0;
    for (size_t c = 0; c < channels; ++c) {
      sum += audio.samples[i * channels + c];
    }
    // Round half away from zero; the mean of int16 values always fits int16.
    mono[i] =
        static_cast<int16_t>((sum >= 0 ? sum + half : sum - half) / static_cast<int64_t>(channels));
  }
  return mono;
}

}  // namespace artagent::audio
