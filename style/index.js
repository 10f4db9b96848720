import './base.css';
import './expiry.css';
