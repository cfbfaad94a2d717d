#!/usr/bin/env python3
"""Herald's admin console in a real browser: headless Chromium driven by selenium.

Run by deploy/local/browser.sh (part of `make test`), which starts the test broker's
herald-ingest and herald-dispatcher, imports deploy/local/demo-directory.json and passes:
  HERALD_CONSOLE_URL   ingest's base URL
  HERALD_ADMIN_TOKEN   a token of contoso/admin (Organization.Update and RemoteTasks.SendCustomNotifications)
  HERALD_HELPDESK_TOKEN a token of contoso/ops-bot (RemoteTasks.SendCustomNotifications only)
  HERALD_CTL           the heraldctl executable (to take envelopes off the push queues)
  HERALD_SCREENSHOTS   where to save a screenshot of each page
Each check prints one line; the first failure stops the run with exit status 1.
"""
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["HERALD_CONSOLE_URL"].rstrip("/")
ADMIN = os.environ["HERALD_ADMIN_TOKEN"]
HELPDESK = os.environ["HERALD_HELPDESK_TOKEN"]
CTL = os.environ["HERALD_CTL"]
SHOTS = os.environ.get("HERALD_SCREENSHOTS", ".herald/screenshots")
# 25 graphemes in 26 code points: the "é" is an "e" and a combining accent. (ChromeDriver types only
# characters of the Basic Multilingual Plane, so no emoji here; the Swift tests cover those.)
TITLE = "Fire drill at 10:00, cafe\u0301"
os.makedirs(SHOTS, exist_ok=True)


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    print(f"  ok  {what}")


def browser(language="en-US"):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                     f"--lang={language}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


def wait(driver, condition, what, seconds=20):
    # A click that navigates can leave the condition holding an element of the page being
    # replaced: that, like an element not there yet, means "not yet", not a failure.
    not_yet = (NoSuchElementException, StaleElementReferenceException)
    try:
        return WebDriverWait(driver, seconds, ignored_exceptions=not_yet).until(lambda d: condition(d))
    except TimeoutException:
        raise Failure(f"timed out waiting for {what} (at {driver.current_url})")


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def sign_in(driver, token):
    driver.get(BASE + "/console/sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait(driver, lambda d: "/sign-in" not in d.current_url, "the page after sign-in")


def sign_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/sign-out'] button").click()
    wait(driver, lambda d: d.current_url.endswith("/console/sign-in"), "the sign-in page after sign-out")


def take_envelopes():
    """Every envelope on both push queues (heraldctl removes them), as (queue, envelope) pairs."""
    output = subprocess.run([CTL, "push", "take", "--max", "1000"], check=True, capture_output=True, text=True).stdout
    queue, envelopes = None, []
    for line in output.splitlines():
        if line.startswith("herald.push."):
            queue = line.split(":")[0]
        elif line.strip().startswith("{"):
            envelopes.append((queue, json.loads(line)))
    return envelopes


def accessibility(driver, page):
    """Every visible field has a label, and the page declares its language."""
    unlabeled = driver.execute_script("""
        return Array.from(document.querySelectorAll('input, select, textarea'))
          .filter(e => e.type !== 'hidden')
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
          .map(e => e.name || e.id);""")
    check(unlabeled == [], f"{page}: every field has a label")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != "", f"{page}: the page declares its language")


def contrast(driver, selector):
    """The WCAG contrast ratio of an element's text against its (first opaque) background."""
    return driver.execute_script("""
        function rgb(s) { return s.match(/[\\d.]+/g).map(Number); }
        function lum(c) { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
                          return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
        const e = document.querySelector(arguments[0]);
        let b = e, bg = [255, 255, 255, 1];
        while (b) { const c = rgb(getComputedStyle(b).backgroundColor); if (c.length < 4 || c[3] > 0) { bg = c; break; } b = b.parentElement; }
        const a = lum(rgb(getComputedStyle(e).color)), z = lum(bg);
        return (Math.max(a, z) + 0.05) / (Math.min(a, z) + 0.05);""", selector)


def group_flow(driver):
    print("send to two groups through Basics, Assignments, Review + create")
    sign_in(driver, ADMIN)
    check(driver.current_url.endswith("/console/send"), "an administrator lands on the group flow")
    shot(driver, "1-basics")
    accessibility(driver, "Basics")
    check(contrast(driver, "button.primary") >= 4.5, "the primary button's text has at least 4.5:1 contrast")
    check(contrast(driver, "main p.hint") >= 4.5, "hint text has at least 4.5:1 contrast")

    # Keyboard only: tab to each field, type, tab to Next, press Enter.
    body = driver.find_element(By.TAG_NAME, "body")
    def tab_to(predicate, what):
        for _ in range(40):
            if predicate(driver.switch_to.active_element):
                return
            driver.switch_to.active_element.send_keys(Keys.TAB)
        raise Failure(f"could not reach {what} with the Tab key")
    body.click()
    tab_to(lambda e: e.get_attribute("id") == "title", "the title")
    driver.switch_to.active_element.send_keys(TITLE)
    counter = driver.find_element(By.CSS_SELECTOR, "[data-count-for=title]").text
    check(counter == "25", f"the title counter counts graphemes, not code points, as one types (shows {counter})")
    tab_to(lambda e: e.get_attribute("id") == "body", "the body")
    driver.switch_to.active_element.send_keys("Leave by the east stairs; meet at the car park.")
    tab_to(lambda e: e.tag_name == "button" and e.get_attribute("value") == "next", "the Next button")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_elements(By.ID, "group-list"), "the Assignments tab")

    shot(driver, "2-assignments")
    accessibility(driver, "Assignments")
    page = driver.page_source
    check("Fabrikam" not in page, "another tenant's groups are not listed")
    check("nested groups: 1" in page, "nested groups are noted as not counting")
    search = driver.find_element(By.ID, "q")
    search.send_keys("field")
    visible = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#group-list li") if li.is_displayed()]
    check(len(visible) == 1 and "Field engineers" in visible[0], "the search narrows the list as one types")
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)
    for group in ("g-staff", "g-field"):
        box = driver.find_element(By.CSS_SELECTOR, f"input[name=group][value='{group}']")
        driver.execute_script("arguments[0].scrollIntoView()", box)
        box.click()
    check(driver.find_element(By.ID, "selected-count").text == "2 of 25 groups chosen", "the chosen-groups counter follows the ticks")
    driver.find_element(By.CSS_SELECTOR, "button[value=next]").click()
    wait(driver, lambda d: "Review + create" in d.find_element(By.CSS_SELECTOR, "li.current").text, "the Review + create tab")

    shot(driver, "3-review")
    review = driver.find_element(By.CSS_SELECTOR, "dl.review").text
    check(TITLE in review and "All staff" in review and "Field engineers" in review,
          "the review shows the title, body and both groups once more")
    driver.find_element(By.CSS_SELECTOR, "button[value=create]").click()
    wait(driver, lambda d: d.find_elements(By.ID, "created"), "the confirmation")
    notification = driver.find_element(By.CSS_SELECTOR, "#created code").text
    check(len(notification) == 36, f"the confirmation shows the notification id {notification}")
    # The status on the page changes without a reload: the page's script swaps it in.
    driver.execute_script("window.heraldMarker = 1")
    wait(driver, lambda d: "Queued for push" in d.find_element(By.ID, "status").text, "the status to turn Queued for push")
    check(driver.execute_script("return window.heraldMarker") == 1, "the status was refreshed without reloading the page")
    shot(driver, "4-confirmation")
    status = driver.find_element(By.ID, "status").text

    envelopes = [(q, e) for q, e in take_envelopes() if e["notificationId"] == notification]
    ios = sorted(e["deviceId"] for q, e in envelopes if q == "herald.push.ios")
    android = sorted(e["deviceId"] for q, e in envelopes if q == "herald.push.android")
    check(ios == ["d-ada-iphone", "d-bo-ipad"], f"the iOS queue holds the envelopes of both groups' users' Apple devices ({ios})")
    check(android == ["d-ada-pixel"], f"the Android queue holds the eligible Android device's envelope ({android})")
    check(all(e["apns"]["payload"]["aps"]["alert"]["title"] == TITLE for q, e in envelopes if q == "herald.push.ios"),
          "the APNs envelopes carry the title as typed")
    check("iOS / iPadOS: 2" in status and "Android: 1" in status, "the page shows the envelope counts per platform")
    check("1 × Custom notifications are sent to iOS, iPadOS and Android devices only." in status
          and "1 × The Android device does not have Google Play Services." in status, "the page shows the skipped devices by reason")

    driver.get(BASE + "/console/notifications")
    check(notification in driver.page_source, "the notification is in the history")
    check("group sends left this hour" in driver.page_source, "the history shows the group sends left this hour")
    shot(driver, "5-notifications")
    accessibility(driver, "Notifications")


def device_flow(driver):
    print("send to one device, and a validation error")
    driver.get(BASE + "/console/devices")
    shot(driver, "6-devices")
    accessibility(driver, "Devices")
    page = driver.page_source
    check("Custom notifications cannot be sent to macOS devices" in page, "a macOS device says why it cannot receive one")
    check("Custom notifications cannot be sent to Windows devices" in page, "a Windows device says why it cannot receive one")
    driver.find_element(By.ID, "platform").send_keys("iPadOS")
    driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
    # The filter is a GET form: wait for the filtered page, not the one the click left.
    wait(
        driver,
        lambda d: "platform=ipados" in d.current_url and d.execute_script("return document.readyState") == "complete",
        "the filtered device list",
    )
    rows = driver.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    check(len(rows) == 1 and "d-bo-ipad" in rows[0].text, "the platform filter leaves the iPad")
    rows[0].find_element(By.PARTIAL_LINK_TEXT, "Send custom notification").click()
    wait(driver, lambda d: d.find_elements(By.ID, "title"), "the device's send form")

    too_long = "T" * 51
    driver.find_element(By.ID, "title").send_keys(too_long)
    driver.find_element(By.ID, "body").send_keys("Please restart today.")
    driver.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait(driver, lambda d: d.find_elements(By.ID, "title-error"), "the error next to the title")
    check("at most 50 characters; it has 51" in driver.find_element(By.ID, "title-error").text, "the error says what is wrong, next to the field")
    check(driver.find_element(By.ID, "title").get_attribute("value") == too_long, "the form keeps what was typed")
    check(driver.find_element(By.ID, "body").get_attribute("value") == "Please restart today.", "the body is kept too")
    check(driver.switch_to.active_element.get_attribute("id") == "errors", "focus moves to the error summary")
    shot(driver, "7-validation-error")

    title = driver.find_element(By.ID, "title")
    title.clear()
    title.send_keys("Restart your iPad")
    driver.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait(driver, lambda d: d.find_elements(By.ID, "created"), "the device send's confirmation")
    notification = driver.find_element(By.CSS_SELECTOR, "#created code").text
    wait(driver, lambda d: "Queued for push" in d.find_element(By.ID, "status").text, "the device send to turn Queued for push")
    envelopes = [(q, e) for q, e in take_envelopes() if e["notificationId"] == notification]
    check([(q, e["deviceId"]) for q, e in envelopes] == [("herald.push.ios", "d-bo-ipad")], "one envelope for the iPad on the iOS queue")


def without_permission(driver):
    print("a principal without Organization.Update")
    sign_out(driver)
    sign_in(driver, HELPDESK)
    check(not driver.find_elements(By.CSS_SELECTOR, "a[href='/console/send']"), "the group flow is not offered")
    driver.get(BASE + "/console/send")
    check("Organization.Update" in driver.find_element(By.CSS_SELECTOR, ".error-summary").text, "opening it anyway is refused, naming the permission")
    shot(driver, "8-no-permission")


def dutch():
    print("the console in Dutch")
    driver = browser("nl-NL")
    try:
        sign_in(driver, ADMIN)
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl", "Accept-Language nl gives a Dutch page")
        check("Aangepaste meldingen verzenden" in driver.page_source and "Basisinformatie" in driver.page_source,
              "the group flow speaks Dutch")
        shot(driver, "9-dutch")
        driver.find_element(By.CSS_SELECTOR, "nav.languages a[lang=sv]").click()
        wait(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sv", "the Swedish page")
        check("Skicka anpassade meddelanden" in driver.page_source, "the switcher changes the language (Swedish)")
        driver.find_element(By.CSS_SELECTOR, "nav.languages a[lang=en]").click()
    finally:
        driver.quit()


def main():
    take_envelopes()  # start from empty push queues
    driver = browser()
    failed = None
    try:
        group_flow(driver)
        device_flow(driver)
        without_permission(driver)
    except Exception as failure:  # a check, or selenium finding the page not as expected
        failed = failure
        shot(driver, "failure")
    finally:
        driver.quit()
    if failed is None:
        try:
            dutch()
        except Exception as failure:
            failed = failure
    if failed is not None:
        print(f"FAILED: {type(failed).__name__}: {str(failed).splitlines()[0] if str(failed) else ''}")
        return 1
    print(f"console: every browser check passed (screenshots in {SHOTS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
