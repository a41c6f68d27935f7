//! The public pages as anyone meets them: axe-core (vendored from the npm registry, injected into
//! the page) finds no WCAG 2 A/AA violation on a desktop or a 390 px phone, and on the phone no
//! table cell is squeezed below two characters (the "所/在/市/州" wrapping).

use std::time::Duration;

use super::Browser;

/// axe-core 4.14.1 (MPL-2.0), `axe.min.js` from the npm package `axe-core`.
const AXE: &str = include_str!("vendor/axe.min.js");

const DESKTOP: (u32, u32) = (1366, 900);
const PHONE: (u32, u32) = (390, 844);

impl Browser<'_> {
    async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize the window to {width}×{height}: {e}"));
        // Let the layout settle at the new width.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// What axe reports against WCAG 2 A and AA on the current page, one line per rule.
    async fn axe_violations(&self) -> Vec<String> {
        self.client
            .execute(AXE, vec![])
            .await
            .expect("inject axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                   .then(r => done(r.violations.map(v => v.id + '：' + v.help + '（' +\
                     v.nodes.map(n => n.target.join(' ')).slice(0, 5).join('，') + '）')))\
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Table cells narrower than two characters of their own font, with their text.
    async fn squeezed_cells(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                "return [...document.querySelectorAll('td, th')]\
                   .filter(c => c.offsetParent !== null && c.textContent.trim().length > 1)\
                   .filter(c => c.getBoundingClientRect().width <\
                                2 * parseFloat(getComputedStyle(c).fontSize))\
                   .map(c => c.textContent.trim().slice(0, 20));",
                vec![],
            )
            .await
            .expect("measure the table cells");
        found
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The page now open passes axe on a desktop and on a phone, where no cell is squeezed;
    /// screenshots of both. The window is left at desktop size.
    pub(crate) async fn check_public_page(&self, shot: &str) {
        let path = self.path().await;
        self.resize(DESKTOP).await;
        let desktop = self.axe_violations().await;
        assert!(desktop.is_empty(), "{path} on a desktop: {desktop:#?}");
        self.resize(PHONE).await;
        let phone = self.axe_violations().await;
        assert!(phone.is_empty(), "{path} on a phone: {phone:#?}");
        let squeezed = self.squeezed_cells().await;
        assert!(
            squeezed.is_empty(),
            "{path} on a 390 px phone squeezes cells below two characters: {squeezed:?}"
        );
        let overflow = self
            .client
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure the page width")
            .as_i64()
            .unwrap_or_default();
        assert!(
            overflow <= 0,
            "{path} on a phone is {overflow} px wider than the screen"
        );
        self.screenshot(&format!("{shot}-phone")).await;
        self.resize(DESKTOP).await;
    }
}
