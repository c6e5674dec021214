from controlplane.clock import Clock
from controlplane.signing import TokenCheck, UrlSigner


class FakeTime:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_token_grants_one_title_until_expiry() -> None:
    now = FakeTime()
    signer = UrlSigner(b"k" * 32, Clock(now), ttl_s=60)
    token = signer.token("t1")
    assert token.startswith("1000060-")
    assert signer.check(token, "t1") is TokenCheck.OK
    assert signer.check(token, "t2") is TokenCheck.BAD_SIGNATURE
    now.t += 60
    assert signer.check(token, "t1") is TokenCheck.OK
    now.t += 1
    assert signer.check(token, "t1") is TokenCheck.EXPIRED


def test_forged_and_malformed_tokens() -> None:
    signer = UrlSigner(b"k" * 32, Clock(FakeTime()))
    other = UrlSigner(b"x" * 32, Clock(FakeTime()))
    assert signer.check(other.token("t1"), "t1") is TokenCheck.BAD_SIGNATURE
    expiry, mac = signer.token("t1").split("-")
    later = f"{int(expiry) + 10_000}-{mac}"  # pushing the expiry breaks the MAC
    assert signer.check(later, "t1") is TokenCheck.BAD_SIGNATURE
    for bad in ("", "abc", "123-short", "-" + "0" * 32, "12x-" + "0" * 32):
        assert signer.check(bad, "t1") is TokenCheck.MALFORMED
