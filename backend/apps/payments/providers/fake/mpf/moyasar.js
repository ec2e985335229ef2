/* The Moyasar fake's payment form: an equivalent of Moyasar's form (https://cdn.moyasar.com/mpf/<version>/moyasar.js)
   for development and tests, served by the fake at /_fake/mpf/moyasar.js. Card payments only.

   Moyasar.init({element, amount, currency, description, publishable_api_key, callback_url, methods: ["creditcard"],
                 metadata, given_id?, manual?, language?, on_initiating?, on_completed?, on_failure?})

   It draws a card form (name, number, expiry, CVC) into `element`, creates the payment at the fake's
   POST /v1/payments with the publishable key (the card goes from the browser to the provider only), runs
   `on_completed(payment)` (its promise is awaited) and sends the browser to `source.transaction_url` (3-D Secure),
   or straight to `callback_url?id=&status=&message=` when the payment is already final. No inline style: the
   page's Content Security Policy allows the form's origin for scripts and styles, nothing inline. */
(function () {
  "use strict";

  var script = document.currentScript;
  var apiBase = script && script.src ? script.src.replace(/\/_fake\/mpf\/moyasar\.js(\?.*)?$/, "") + "/v1" : "/v1";

  var TEXT = {
    en: {
      name: "Name on card", number: "Card number", expiry: "Expiry (MM / YY)", cvc: "Security code (CVC)",
      pay: "Pay {amount}", paying: "Processing…", legend: "Pay by card",
      "error.name": "Enter the first and last name on the card.",
      "error.number": "Enter a valid card number.",
      "error.expiry": "Enter a valid expiry date (MM / YY).",
      "error.expired": "This card has expired.",
      "error.cvc": "Enter the 3 or 4 digit security code.",
      "error.network": "We could not reach the payment service. Check your connection and try again.",
      "error.used_given_id": "This payment was already started. Reload the page to pay.",
      "error.authentication_error": "The payment service refused this request.",
      "error.generic": "The payment could not be made. Check the card details and try again.",
      secure: "Test mode: payments are processed by the Moyasar fake.",
      currency: { SAR: "SAR" }
    },
    ar: {
      name: "الاسم على البطاقة", number: "رقم البطاقة", expiry: "تاريخ الانتهاء (شهر / سنة)", cvc: "رمز الأمان (CVC)",
      pay: "ادفع {amount}", paying: "جارٍ المعالجة…", legend: "الدفع بالبطاقة",
      "error.name": "أدخل الاسم الأول والأخير كما على البطاقة.",
      "error.number": "أدخل رقم بطاقة صحيحًا.",
      "error.expiry": "أدخل تاريخ انتهاء صحيحًا (شهر / سنة).",
      "error.expired": "انتهت صلاحية هذه البطاقة.",
      "error.cvc": "أدخل رمز الأمان المكوّن من 3 أو 4 أرقام.",
      "error.network": "تعذّر الوصول إلى خدمة الدفع. تحقّق من الاتصال وحاول مرة أخرى.",
      "error.used_given_id": "بدأت عملية الدفع هذه من قبل. أعد تحميل الصفحة للدفع.",
      "error.authentication_error": "رفضت خدمة الدفع هذا الطلب.",
      "error.generic": "تعذّر إتمام الدفع. تحقّق من بيانات البطاقة وحاول مرة أخرى.",
      secure: "وضع الاختبار: تتم معالجة المدفوعات بواسطة محاكي ميسر.",
      currency: { SAR: "ر.س" }
    }
  };
  var MINOR = { BHD: 3, JOD: 3, KWD: 3, OMR: 3, TND: 3, JPY: 0, KRW: 0 };

  function luhn(number) {
    var sum = 0, double = false;
    for (var i = number.length - 1; i >= 0; i--) {
      var d = +number[i];
      if (double) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d; double = !double;
    }
    return sum % 10 === 0;
  }

  function money(amount, currency, t) {
    var digits = MINOR[currency] === undefined ? 2 : MINOR[currency];
    var value = (amount / Math.pow(10, digits)).toFixed(digits).replace(/\.0+$/, "");
    return value + " " + ((t.currency && t.currency[currency]) || currency);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function redirect(url, params) {
    var target = new URL(url, window.location.href);
    Object.keys(params).forEach(function (k) { target.searchParams.set(k, params[k]); });
    window.location.assign(target.toString());
  }

  var count = 0;

  function init(config) {
    var root = typeof config.element === "string" ? document.querySelector(config.element) : config.element;
    if (!root) { throw new Error("Moyasar.init: element not found"); }
    var methods = config.methods || config.payment_methods || ["creditcard"];
    if (methods.indexOf("creditcard") < 0) { throw new Error("The Moyasar fake's form supports creditcard only"); }
    var lang = (config.language || document.documentElement.lang || "en").slice(0, 2) === "ar" ? "ar" : "en";
    var t = TEXT[lang];
    var id = "mysr-" + (++count) + "-";

    function field(name, label, attrs) {
      var input = el("input", Object.assign({ id: id + name, name: name, type: "text", class: "mysr-input",
        "aria-describedby": id + name + "-error" }, attrs));
      return {
        input: input,
        error: el("p", { id: id + name + "-error", class: "mysr-field-error", "aria-live": "polite" }),
        node: null,
        label: el("label", { for: id + name, class: "mysr-label" }, [label])
      };
    }
    var fields = {
      name: field("name", t.name, { autocomplete: "cc-name", "data-testid": "mysr-name", dir: "auto" }),
      number: field("number", t.number, { autocomplete: "cc-number", inputmode: "numeric", dir: "ltr",
        maxlength: "23", placeholder: "1234 5678 9012 3456", "data-testid": "mysr-number" }),
      expiry: field("expiry", t.expiry, { autocomplete: "cc-exp", inputmode: "numeric", dir: "ltr", maxlength: "7",
        placeholder: "MM / YY", "data-testid": "mysr-expiry" }),
      cvc: field("cvc", t.cvc, { autocomplete: "cc-csc", inputmode: "numeric", dir: "ltr", maxlength: "4",
        placeholder: "123", "data-testid": "mysr-cvc" })
    };
    var payLabel = t.pay.replace("{amount}", money(config.amount, config.currency || "SAR", t));
    var button = el("button", { type: "submit", class: "mysr-button", "data-testid": "mysr-pay" }, [payLabel]);
    var status = el("p", { class: "mysr-status", role: "alert", "data-testid": "mysr-error" });
    function wrap(f, extra) {
      return el("div", { class: "mysr-field" + (extra ? " " + extra : "") }, [f.label, f.input, f.error]);
    }
    var form = el("form", { class: "mysr-form-body", novalidate: "", lang: lang, dir: lang === "ar" ? "rtl" : "ltr",
      "data-testid": "mysr-form" }, [
      el("fieldset", { class: "mysr-fieldset" }, [
        el("legend", { class: "mysr-legend" }, [t.legend]),
        wrap(fields.name),
        wrap(fields.number),
        el("div", { class: "mysr-row" }, [wrap(fields.expiry, "mysr-half"), wrap(fields.cvc, "mysr-half")])
      ]),
      status,
      button,
      el("p", { class: "mysr-note" }, [t.secure])
    ]);
    root.textContent = "";
    root.appendChild(form);

    fields.number.input.addEventListener("input", function () {
      var digits = fields.number.input.value.replace(/\D/g, "").slice(0, 19);
      fields.number.input.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
    });
    fields.expiry.input.addEventListener("input", function () {
      var digits = fields.expiry.input.value.replace(/\D/g, "").slice(0, 4);
      fields.expiry.input.value = digits.length > 2 ? digits.slice(0, 2) + " / " + digits.slice(2) : digits;
    });

    function setError(name, message) {
      var f = fields[name];
      f.error.textContent = message || "";
      if (message) { f.input.setAttribute("aria-invalid", "true"); } else { f.input.removeAttribute("aria-invalid"); }
    }

    function read() {
      var errors = {};
      var name = fields.name.input.value.trim().replace(/\s+/g, " ");
      var number = fields.number.input.value.replace(/\D/g, "");
      var exp = fields.expiry.input.value.replace(/\D/g, "");
      var cvc = fields.cvc.input.value.trim();
      var month = +exp.slice(0, 2), year = +exp.slice(2);
      if (name.split(" ").length < 2) { errors.name = t["error.name"]; }
      if (!/^\d{12,19}$/.test(number) || !luhn(number)) { errors.number = t["error.number"]; }
      if (exp.length !== 4 || month < 1 || month > 12) {
        errors.expiry = t["error.expiry"];
      } else {
        var now = new Date();
        if (2000 + year < now.getFullYear() || (2000 + year === now.getFullYear() && month < now.getMonth() + 1)) {
          errors.expiry = t["error.expired"];
        }
      }
      var cvcLength = /^3[47]/.test(number) ? 4 : 3;
      if (!new RegExp("^\\d{" + cvcLength + "}$").test(cvc)) { errors.cvc = t["error.cvc"]; }
      return { errors: errors, card: { name: name, number: number, month: month, year: 2000 + year, cvc: cvc } };
    }

    function busy(on) {
      button.disabled = on;
      form.setAttribute("aria-busy", on ? "true" : "false");
      button.textContent = on ? t.paying : payLabel;
    }

    function fail(message, payment) {
      busy(false);
      status.textContent = message;
      if (typeof config.on_failure === "function") { config.on_failure(message, payment); }
    }

    function serverErrors(body) {
      var errors = (body && body.errors) || {};
      var shown = false;
      Object.keys(errors).forEach(function (key) {
        var name = key.replace(/^source\./, "");
        if (name === "month" || name === "year") { name = "expiry"; }
        if (fields[name]) { setError(name, t["error." + name] || t["error.generic"]); shown = true; }
      });
      var message = (body && t["error." + body.type]) || t["error.generic"];
      fail(shown ? t["error.generic"] : message);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      status.textContent = "";
      var data = read();
      Object.keys(fields).forEach(function (name) { setError(name, data.errors[name]); });
      var firstBad = Object.keys(fields).filter(function (name) { return data.errors[name]; })[0];
      if (firstBad) { fields[firstBad].input.focus(); return; }
      var source = Object.assign({ type: "creditcard" }, data.card);
      if (config.manual) { source.manual = true; }
      var body = {
        amount: config.amount, currency: config.currency || "SAR", description: config.description,
        callback_url: config.callback_url, metadata: config.metadata || {}, source: source
      };
      if (config.given_id) { body.given_id = config.given_id; }
      busy(true);
      Promise.resolve(typeof config.on_initiating === "function" ? config.on_initiating() : true)
        .then(function (go) {
          if (go === false) { busy(false); return null; }
          return fetch(apiBase + "/payments", {
            method: "POST", mode: "cors", credentials: "omit",
            headers: { "Content-Type": "application/json", Accept: "application/json",
              Authorization: "Basic " + btoa(config.publishable_api_key + ":") },
            body: JSON.stringify(body)
          }).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (json) {
              return { ok: response.ok, body: json };
            });
          });
        })
        .then(function (result) {
          if (!result) { return; }
          if (!result.ok) { serverErrors(result.body); return; }
          var payment = result.body;
          return Promise.resolve(typeof config.on_completed === "function" ? config.on_completed(payment) : null)
            .then(function () {
              var url = payment.source && payment.source.transaction_url;
              if (payment.status === "initiated" && url) {
                window.location.assign(url);
              } else if (config.callback_url) {
                redirect(config.callback_url, { id: payment.id, status: payment.status,
                  message: (payment.source && payment.source.message) || "" });
              }
            });
        })
        .catch(function () { fail(t["error.network"]); });
    });
    return { element: root, form: form };
  }

  window.Moyasar = { init: init, fake: true };
})();
