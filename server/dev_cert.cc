#include "server/dev_cert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace artagent::server {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// The newest OpenSSL error, with the step that failed.
core::Status OpenSslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return core::InternalError("dev certificate: " + what + ": " + text);
}

core::Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("adding extension ") + OBJ_nid2sn(nid));
  }
  return core::OkStatus();
}

// Opens `path` for writing with `mode` (also applied to an existing file) and hands the stream to
// `write`, which returns false on failure.
template <typename Write>
core::Status WritePem(const std::string& path, mode_t mode, const char* what, Write write) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return core::FailedPreconditionError("dev certificate: cannot write " + std::string(what) +
                                         " to '" + path + "': " + std::strerror(errno));
  }
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    return core::FailedPreconditionError("dev certificate: cannot chmod '" + path +
                                         "': " + std::strerror(err));
  }
  FILE* file = ::fdopen(fd, "w");
  if (file == nullptr) {
    ::close(fd);
    return core::InternalError("dev certificate: fdopen failed for '" + path + "'");
  }
  bool ok = write(file);
  ok = (std::fclose(file) == 0) && ok;
  if (!ok) return OpenSslError(std::string("writing ") + what + " to '" + path + "'");
  return core::OkStatus();
}

}  // namespace

core::Status GenerateDevCertificate(const std::string& cert_path, const std::string& key_path) {
  if (cert_path.empty() || key_path.empty()) {
    return core::InvalidArgumentError("dev certificate: both a certificate and a key path needed");
  }
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating the P-256 key");

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslError("creating the cert");

  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return OpenSslError("serial number");
  serial_bytes[0] &= 0x7f;  // positive
  BignumPtr serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslError("serial number");
  }

  constexpr long kOneHour = 60 * 60;
  constexpr long kValidity = 365L * 24 * kOneHour;
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kOneHour) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidity) == nullptr) {
    return OpenSslError("validity");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return OpenSslError("public key");

  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* org = reinterpret_cast<const unsigned char*>("artagent development");
  const auto* cn = reinterpret_cast<const unsigned char*>("localhost");
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return OpenSslError("subject name");
  }

  ARTAGENT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  ARTAGENT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  ARTAGENT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  ARTAGENT_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  ARTAGENT_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"));

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return OpenSslError("signing");

  ARTAGENT_RETURN_IF_ERROR(WritePem(key_path, 0600, "the private key", [&](FILE* file) {
    return PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }));
  return WritePem(cert_path, 0644, "the certificate",
                  [&](FILE* file) { return PEM_write_X509(file, cert.get()) == 1; });
}

}  // namespace artagent::server
