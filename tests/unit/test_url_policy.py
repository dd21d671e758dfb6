import pytest

from clipped.ingest.url_policy import DisallowedUrlError, host_is_allowed, validate_video_url


def public(_host: str) -> list[str]:
    return ["142.250.74.14"]


def resolves_to(address: str):
    return lambda _host: [address]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=abc",
        "https://youtu.be/abc",
        "https://m.twitch.tv/videos/1",
        "https://vimeo.com/123",
        "https://www.tiktok.com/@a/video/1",
        "https://www.instagram.com/reel/x/",
        "https://x.com/a/status/1",
    ],
)
def test_allowlisted_https_urls_pass(url: str) -> None:
    assert validate_video_url(url, resolver=public) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.youtube.com/watch?v=abc", "only https"),
        ("ftp://youtube.com/a", "only https"),
        ("https://evil.com/watch", "not on the allowlist"),
        ("https://youtube.com.evil.com/watch", "not on the allowlist"),
        ("https://notyoutube.com/watch", "not on the allowlist"),
        ("https://user:pw@youtube.com/watch", "credentials"),
        ("https://youtube.com:8443/watch", "port 8443"),
        ("https://127.0.0.1/video.mp4", "private, loopback or link-local"),
        ("https://[::1]/video.mp4", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("https://8.8.8.8/video.mp4", "not on the allowlist"),
    ],
)
def test_disallowed_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(DisallowedUrlError, match=reason):
        validate_video_url(url, resolver=public)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.5", "192.168.1.2", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "100.64.0.1"],
)
def test_allowlisted_host_resolving_to_private_address_is_refused(address: str) -> None:
    with pytest.raises(DisallowedUrlError, match="resolves to"):
        validate_video_url("https://www.youtube.com/watch?v=abc", resolver=resolves_to(address))


def test_subdomains_match_but_lookalikes_do_not() -> None:
    assert host_is_allowed("www.youtube.com")
    assert host_is_allowed("YOUTUBE.COM.")
    assert not host_is_allowed("youtube.co")
    assert not host_is_allowed("fakeyoutube.com")
