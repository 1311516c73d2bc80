"""Drives the console in a real browser (Debian's chromium and chromedriver, Python selenium),
as tests/console.rs asks: log in (a wrong token first), create a tenant and watch its job,
refuse its clients, back it up and watch the progress, restore it behind the typed
confirmation (a wrong name first), and check that a form without the CSRF token is refused.
Screenshots of the main pages go to OUTDIR.

    python3 tests/console/browser.py BASE_URL TOKEN TENANT OUTDIR
"""
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

base, token, tenant, outdir = sys.argv[1:5]
os.makedirs(outdir, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)


def shot(name):
    driver.save_screenshot(os.path.join(outdir, f"{name}.png"))


def text():
    # A page being replaced (a form just submitted) has no body to read yet: read the next one.
    for _ in range(40):
        try:
            return driver.find_element(By.TAG_NAME, "body").text
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.25)
    return driver.find_element(By.TAG_NAME, "body").text


def wait_for(check, what, secs=240):
    deadline = time.time() + secs
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}: {text()}")


def submit(form_action, **fields):
    form = driver.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"]')
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    form.find_element(By.TAG_NAME, "button").click()


def wait_job(kind):
    wait_for(lambda: "/console/jobs/" in driver.current_url, f"the {kind} job page")
    wait_for(lambda: driver.find_element(By.ID, "status").text != "running", f"the {kind} job to end")
    status = driver.find_element(By.ID, "status").text
    assert status == "succeeded", f"{kind}: {status}: {text()}"
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#events li")]


try:
    # Not logged in: the login page. A wrong token is refused (and slowed).
    driver.get(base + "/console")
    assert driver.current_url.endswith("/console/login"), driver.current_url
    shot("login")
    started = time.time()
    submit("/console/login", token="pgs_wrong")
    wait_for(lambda: "Unknown or revoked token" in text(), "the wrong token refused")
    assert time.time() - started >= 0.9, "a failed login is slowed"
    driver.get(base + "/console/login")
    submit("/console/login", token=token)
    wait_for(lambda: driver.current_url.endswith("/console"), "the tenants page after login")
    cookie = driver.get_cookie("pgs_console")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie

    # Create a tenant and watch its job to the end.
    submit("/console/tenants", id=tenant, memory="256m")
    events = wait_job("create")
    assert any("waiting for" in e for e in events), events
    shot("job")
    driver.get(base + "/console?q=" + tenant)
    wait_for(lambda: tenant in text(), "the new tenant in the list")
    shot("tenants")

    # The tenant page: no password until revealed; then refuse its clients.
    driver.get(base + f"/console/tenants/{tenant}")
    assert "********" in driver.find_element(By.ID, "direct-url").text
    shot("tenant")
    driver.find_element(By.ID, "toggle-access").click()
    wait_for(lambda: "Clients are refused" in text(), "access off")

    # A form without the CSRF token is refused, with the session cookie and all.
    request = urllib.request.Request(
        base + f"/console/tenants/{tenant}/access",
        data=urllib.parse.urlencode({"access": "on"}).encode(),
        headers={"Cookie": f"pgs_console={cookie['value']}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        urllib.request.urlopen(request)
        raise AssertionError("a form without its CSRF token was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code

    # A backup, its progress streamed onto the job page.
    driver.get(base + f"/console/tenants/{tenant}")
    driver.find_element(By.CSS_SELECTOR, f'form[action="/console/tenants/{tenant}/backup"] button').click()
    events = wait_job("backup")
    assert any("backup of" in e for e in events), events

    # A restore needs the tenant's name typed: a wrong one changes nothing.
    driver.get(base + f"/console/tenants/{tenant}")
    submit(f"/console/tenants/{tenant}/restore", confirm="not-" + tenant)
    wait_for(lambda: "type the tenant's name" in text(), "the wrong name refused")
    driver.get(base + f"/console/tenants/{tenant}")
    submit(f"/console/tenants/{tenant}/restore", confirm=tenant)
    events = wait_job("restore")
    assert any("restoring" in e for e in events), events

    driver.get(base + "/console/status")
    assert "Gateway and nodes" in text()
    shot("status")
    print("console: all steps passed")
finally:
    driver.quit()
